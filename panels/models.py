from django.conf import settings
from django.db import connection, models, transaction
from django.db.models import F
from django.utils import timezone

from config.errors import Conflict, DomainError
from panels.lifecycle import FINAL, Status, check_transition
from tenants.context import TenantMismatch, current_tenant


class ConcurrentUpdate(Conflict):
    code = "concurrent_update"


class MembersLocked(DomainError):
    code = "members_locked"
    status_code = 409


# Status changes counted in the usage ledger (tenants/billing), by the kind of event.
BILLED_STATUSES = {Status.IN_PROGRESS: "panel_started", Status.COMPLETED: "panel_completed",
                   Status.FAILED: "panel_failed", Status.CANCELLED: "panel_cancelled"}


class Panel(models.Model):
    """The aggregate: a question, its experts, its rounds and its outcome. It records the
    tenant it belongs to and refuses to change under another; every change goes through
    `transition` / `save_versioned`, so a lost update is impossible (optimistic locking)."""

    Status = Status

    query = models.TextField()
    panel_type = models.CharField(max_length=30)
    status = models.CharField(max_length=30, choices=Status.choices, default=Status.CREATED, db_index=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="panels")
    tenant_schema = models.CharField(max_length=63, editable=False)
    settings = models.JSONField(default=dict, blank=True)  # max_rounds, consensus_threshold, documents
    version = models.PositiveIntegerField(default=1)
    current_round = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    tokens_used = models.PositiveIntegerField(default=0)
    cost = models.DecimalField(max_digits=12, decimal_places=6, default=0)
    dropped_citations = models.PositiveIntegerField(default=0)
    input_deadline = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # The run's last sign of life (the runner beats every few seconds; a requeue stamps it
    # too). Written with a plain update, outside the version lock: it is not the panel's state.
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [  # the history and dashboard lists: a member's panels, or all, newest first
            models.Index(fields=["owner", "-created_at", "-id"], name="panel_owner_recent"),
            models.Index(fields=["-created_at", "-id"], name="panel_recent"),
        ]

    def __str__(self):
        return f"Panel {self.pk} ({self.panel_type}, {self.status.lower()})"

    @property
    def is_final(self) -> bool:
        return self.status in FINAL

    @property
    def max_rounds(self) -> int:
        return int(self.settings.get("max_rounds", 1))

    def assert_tenant(self) -> None:
        """Defense in depth on top of the schema: never change a panel under another tenant."""
        if self.tenant_schema and connection.schema_name != self.tenant_schema:
            raise TenantMismatch(
                f"Panel {self.pk} belongs to tenant {self.tenant_schema!r}, but {connection.schema_name!r} is active."
            )

    def save_versioned(self, *fields: str) -> None:
        """Write `fields` only if nobody changed the panel since it was read."""
        self.assert_tenant()
        values = {name: getattr(self, name) for name in fields}
        updated = Panel.objects.filter(pk=self.pk, version=self.version).update(version=F("version") + 1, **values)
        if updated != 1:
            raise ConcurrentUpdate(
                f"Panel {self.pk} was changed by someone else meanwhile; reload it and try again.",
                details={"panel_id": self.pk},
            )
        self.version += 1

    def transition(self, target: str, *, error: str = "") -> None:
        check_transition(self.status, target)
        self.status = target
        fields = ["status"]
        now = timezone.now()
        if target == Status.IN_PROGRESS and self.started_at is None:
            self.started_at = now
            fields.append("started_at")
        if target in FINAL:
            self.finished_at = now
            fields.append("finished_at")
        if error:
            self.error = error
            fields.append("error")
        billable = BILLED_STATUSES.get(target) if (target != Status.IN_PROGRESS or "started_at" in fields) else None
        with transaction.atomic():  # the status and its usage event, together
            self.save_versioned(*fields)
            if billable:
                self._count(billable)

    def _count(self, kind: str) -> None:
        """The usage event of a billable status change (started, completed, failed), once."""
        from tenants.billing.services import usage_record

        tenant = current_tenant()
        usage_record(tenant=tenant, kind=kind, key=f"panel:{tenant.pk}:{self.pk}:{kind}",
                     user_id=self.owner_id, panel_id=self.pk, panel_type=self.panel_type,
                     quantity=self.members.count(),
                     data={"rounds": self.max_rounds, "tokens": self.tokens_used, "cost": str(self.cost)})

    def ensure_members_editable(self) -> None:
        if self.status not in (Status.CREATED, Status.QUEUED):
            raise MembersLocked(
                f"The discussion of panel {self.pk} has started ({self.status.lower()}); its experts cannot change."
            )


class PanelMember(models.Model):
    class Role(models.TextChoices):
        EXPERT = "expert"
        PRO = "pro"
        CON = "con"
        MODERATOR = "moderator"
        HUMAN = "human"

    panel = models.ForeignKey(Panel, on_delete=models.CASCADE, related_name="members")
    agent = models.ForeignKey("agents.Agent", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    # A tenant's private expert; deleting it leaves the member with the copy of its name and title.
    custom_agent = models.ForeignKey("agents_tenant.CustomAgent", on_delete=models.SET_NULL, null=True, blank=True,
                                     related_name="+")
    expert_name = models.CharField(max_length=200, blank=True)
    expert_title = models.CharField(max_length=300, blank=True)
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.EXPERT)
    seat = models.PositiveSmallIntegerField()
    human_name = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["panel_id", "seat"]
        constraints = [models.UniqueConstraint(fields=["panel", "seat"], name="member_seat_unique")]

    def __str__(self):
        return self.display_name

    @classmethod
    def seating(cls, expert, **fields) -> "PanelMember":
        """A member for a catalog agent or a private expert, with a copy of its name and title."""
        which = {"custom_agent": expert} if getattr(expert, "private", False) else {"agent": expert}
        return cls(**which, expert_name=expert.name, expert_title=expert.title, **fields)

    @property
    def expert(self):
        """The AI expert seated here (catalog Agent or private CustomAgent); None for a human
        expert or a private expert deleted since."""
        return self.agent if self.agent_id else self.custom_agent if self.custom_agent_id else None

    @property
    def is_ai(self) -> bool:
        return self.role != self.Role.HUMAN

    @property
    def is_private(self) -> bool:
        """A private expert, seated here (or deleted since: its copy of a name remains)."""
        return self.custom_agent_id is not None or (self.agent_id is None and bool(self.expert_name))

    @property
    def display_name(self) -> str:
        expert = self.expert
        return expert.name if expert is not None else self.expert_name or self.human_name

    @property
    def display_title(self) -> str:
        expert = self.expert
        return expert.title if expert is not None else self.expert_title or "human expert"

    @property
    def anonymous_name(self) -> str:
        return f"Expert {chr(ord('A') + self.seat % 26)}"


class Round(models.Model):
    class State(models.TextChoices):
        RUNNING = "running"
        COMPLETED = "completed"

    panel = models.ForeignKey(Panel, on_delete=models.CASCADE, related_name="rounds")
    number = models.PositiveSmallIntegerField()
    title = models.CharField(max_length=200)
    state = models.CharField(max_length=20, choices=State.choices, default=State.RUNNING)
    started_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    summary = models.JSONField(default=dict, blank=True)  # e.g. themes, estimate statistics

    class Meta:
        ordering = ["panel_id", "number"]
        constraints = [models.UniqueConstraint(fields=["panel", "number"], name="round_number_unique")]


class Contribution(models.Model):
    class Kind(models.TextChoices):
        STATEMENT = "statement"
        QUESTION = "question"
        REBUTTAL = "rebuttal"
        REVISION = "revision"
        ESTIMATE = "estimate"
        HUMAN_INPUT = "human_input"
        SYNTHESIS = "synthesis"

    panel = models.ForeignKey(Panel, on_delete=models.CASCADE, related_name="contributions")
    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="contributions")
    member = models.ForeignKey(PanelMember, on_delete=models.CASCADE, related_name="contributions")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    text = models.TextField()
    position = models.TextField(blank=True)
    stance = models.CharField(max_length=10, blank=True)
    confidence = models.FloatField(null=True, blank=True)
    estimate = models.FloatField(null=True, blank=True)
    action = models.CharField(max_length=20, blank=True)
    key_points = models.JSONField(default=list, blank=True)
    citations = models.JSONField(default=list, blank=True)  # verified citation ids (C<chunk id>)
    dropped_citations = models.JSONField(default=list, blank=True)
    input_tokens = models.PositiveIntegerField(default=0)
    output_tokens = models.PositiveIntegerField(default=0)
    cost = models.DecimalField(max_digits=12, decimal_places=6, default=0)
    latency_ms = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["round__number", "member__seat", "id"]
        constraints = [models.UniqueConstraint(fields=["round", "member", "kind"], name="one_contribution_per_turn")]


class Consensus(models.Model):
    panel = models.OneToOneField(Panel, on_delete=models.CASCADE, related_name="consensus")
    score = models.FloatField()
    level = models.CharField(max_length=10)
    threshold = models.FloatField()
    reached = models.BooleanField()
    majority_stance = models.CharField(max_length=10)
    agreement_points = models.JSONField(default=list)
    dissent = models.JSONField(default=list)
    matrix = models.JSONField(default=dict)
    method = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)


class Recommendation(models.Model):
    panel = models.OneToOneField(Panel, on_delete=models.CASCADE, related_name="recommendation")
    summary = models.TextField()
    action = models.CharField(max_length=20)
    rationale = models.JSONField(default=list)
    dissent = models.JSONField(default=list)
    citations = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)


class PanelEvent(models.Model):
    """Progress as it happens; `id` is the sequence number clients poll after."""

    panel = models.ForeignKey(Panel, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=40)
    data = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]


class PanelRating(models.Model):
    panel = models.ForeignKey(Panel, on_delete=models.CASCADE, related_name="ratings")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    score = models.PositiveSmallIntegerField()
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["panel", "user"], name="one_rating_per_user")]


class PanelTemplate(models.Model):
    """A saved panel configuration to start panels from (panels.template_services): shared
    with the whole tenant or kept by its owner; each user may mark it a favourite.
    `question_template` may hold `{placeholders}` that a user fills when starting a panel."""

    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    panel_type = models.CharField(max_length=30)
    experts = models.JSONField(default=list, blank=True)  # slugs: catalog agents or the tenant's private experts
    max_rounds = models.PositiveSmallIntegerField(null=True, blank=True)  # None: the panel type's default
    documents = models.JSONField(default=list, blank=True)  # document ids of this tenant
    question_template = models.TextField(blank=True)
    shared = models.BooleanField(default=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="panel_templates")
    favourite_of = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True,
                                          related_name="favourite_panel_templates")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self):
        return self.name
