"""Usage and billing, in the public schema (see apps.py)."""

from django.conf import settings
from django.db import models


class Price(models.Model):
    """What a model costs, in USD per million tokens. Loaded from prices.yaml by
    `load_prices`, editable in the platform admin; a model without a row costs 0."""

    provider = models.CharField(max_length=30)
    model = models.CharField(max_length=200)
    input_per_million = models.DecimalField(max_digits=12, decimal_places=4)
    output_per_million = models.DecimalField(max_digits=12, decimal_places=4)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["provider", "model"]
        constraints = [models.UniqueConstraint(fields=["provider", "model"], name="price_provider_model_unique")]

    def __str__(self):
        return f"{self.provider}/{self.model}: ${self.input_per_million} in, ${self.output_per_million} out per 1M"


class UsageEvent(models.Model):
    """One billable fact, appended once: `key` makes a retried task, a resumed panel or a
    re-delivered message count once. Never updated, never deleted."""

    class Kind(models.TextChoices):
        LLM_CALL = "llm_call", "LLM call"
        PANEL_STARTED = "panel_started", "Panel started"
        PANEL_COMPLETED = "panel_completed", "Panel completed"
        PANEL_FAILED = "panel_failed", "Panel failed"
        PANEL_CANCELLED = "panel_cancelled", "Panel cancelled"
        STORAGE_ADDED = "storage_added", "Document storage added"
        STORAGE_REMOVED = "storage_removed", "Document storage removed"
        EMBEDDINGS = "embeddings", "Embeddings computed"

    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="usage_events")
    kind = models.CharField(max_length=30, choices=Kind.choices)
    key = models.CharField(max_length=200, unique=True, help_text="Idempotency key: the same fact is never counted twice.")
    occurred_at = models.DateTimeField()
    user_id = models.BigIntegerField(null=True, blank=True, help_text="The user in the tenant's schema, if any.")
    panel_id = models.BigIntegerField(null=True, blank=True)
    panel_type = models.CharField(max_length=30, blank=True)
    provider = models.CharField(max_length=30, blank=True)
    model = models.CharField(max_length=200, blank=True)
    input_tokens = models.PositiveIntegerField(default=0)
    output_tokens = models.PositiveIntegerField(default=0)
    cost = models.DecimalField(max_digits=14, decimal_places=8, default=0, help_text="USD charged by the platform.")
    billed_directly = models.BooleanField(default=False, help_text="Tokens on the tenant's own key: counted, not charged.")
    quantity = models.BigIntegerField(default=0, help_text="Bytes for storage, texts for embeddings, experts for panels.")
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [models.Index(fields=["tenant", "occurred_at"], name="usage_tenant_time")]

    def __str__(self):
        return f"{self.tenant_id} {self.kind} {self.key}"

    @property
    def tokens(self) -> int:
        return self.input_tokens + self.output_tokens


class DailyRollup(models.Model):
    """The ledger summed per tenant x day x kind x provider x model x panel type x user: what
    the usage report groups by, so it reads these rows for past days instead of the ledger
    (rebuilt whole for a day when re-run)."""

    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="usage_rollups")
    day = models.DateField()
    kind = models.CharField(max_length=30, choices=UsageEvent.Kind.choices)
    provider = models.CharField(max_length=30, blank=True)
    model = models.CharField(max_length=200, blank=True)
    panel_type = models.CharField(max_length=30, blank=True)
    user_id = models.BigIntegerField(null=True, blank=True, help_text="The user in the tenant's schema, if any.")
    events = models.PositiveIntegerField(default=0)
    input_tokens = models.BigIntegerField(default=0)
    output_tokens = models.BigIntegerField(default=0)
    cost = models.DecimalField(max_digits=16, decimal_places=8, default=0)
    quantity = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["-day", "tenant_id", "kind", "provider", "model", "panel_type", "user_id"]
        # nulls_distinct=False: the events without a user of a day are one row, not one per rollup.
        constraints = [models.UniqueConstraint(fields=["tenant", "day", "kind", "provider", "model", "panel_type",
                                                       "user_id"], nulls_distinct=False, name="rollup_unique")]


class Statement(models.Model):
    """A tenant's month, closed: line items, totals, the plan and the budget it ran under.
    Closing a month again rebuilds the same statement (one row per tenant and month)."""

    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="statements")
    month = models.DateField(help_text="The first day of the month.")
    tier = models.CharField(max_length=20)
    lines = models.JSONField(default=list)
    totals = models.JSONField(default=dict)
    budget = models.JSONField(default=dict)
    closed_at = models.DateTimeField()

    class Meta:
        ordering = ["-month", "tenant_id"]
        constraints = [models.UniqueConstraint(fields=["tenant", "month"], name="statement_unique")]

    def __str__(self):
        return f"{self.tenant_id} {self.month:%Y-%m}"


class BudgetAlert(models.Model):
    """A soft or hard budget threshold crossed in a period: the email is sent once."""

    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="budget_alerts")
    period = models.DateField(help_text="The first day of the month.")
    measure = models.CharField(max_length=10, choices=[("cost", "cost"), ("tokens", "tokens")])
    threshold = models.CharField(max_length=10, choices=[("soft", "soft"), ("hard", "hard")])
    sent_at = models.DateTimeField()
    recipients = models.JSONField(default=list)

    class Meta:
        ordering = ["-sent_at"]
        constraints = [models.UniqueConstraint(fields=["tenant", "period", "measure", "threshold"],
                                               name="budget_alert_once")]


class PlanChange(models.Model):
    """The audit trail of plan changes (tier, features, limits and budgets) by platform admins."""

    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="plan_changes")
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    changed_at = models.DateTimeField(auto_now_add=True)
    before = models.JSONField(default=dict)
    after = models.JSONField(default=dict)

    class Meta:
        ordering = ["-changed_at"]
