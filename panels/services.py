"""Writes of the panels app. Each service checks everything first and writes in one
transaction, so refused input leaves nothing behind."""

from __future__ import annotations

import calendar
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.utils import timezone

from agents.models import Agent
from agents.ranking import rank_agents
from agents.tenant.models import CustomAgent
from agents.tenant.selectors import preferences_get
from agents.tenant.services import agent_rating_record
from config.errors import Conflict, DomainError, Forbidden, LimitExceeded
from panels.lifecycle import FINAL, Status
from panels.models import Contribution, Panel, PanelEvent, PanelMember, PanelRating, Round
from panels.selectors import budget_fit, panel_estimate
from panels.types import panel_type_get
from panels.types.base import PanelType
from panels.types.hybrid import HUMAN_INPUT_HOURS
from rag.models import Document
from tenants.audit.services import audit_record
from tenants.context import current_tenant

logger = logging.getLogger(__name__)

QUERY_MIN, QUERY_MAX = 10, 5000


class InvalidPanel(DomainError):
    code = "invalid_panel"


def panel_event(panel: Panel, event_kind: str, **data) -> PanelEvent:
    return PanelEvent.objects.create(panel=panel, kind=event_kind, data=data)


def _month_window(now: datetime) -> tuple[datetime, datetime]:
    start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    days = calendar.monthrange(now.year, now.month)[1]
    return start, start + timedelta(days=days)


def _check_panel_type(tenant, panel_type) -> None:
    features = tenant.configuration.features
    if not features.panel_type_enabled(panel_type.name):
        enabled = ", ".join(features.enabled_panel_types)
        raise Forbidden(
            f"{panel_type.label} panels are not enabled for your plan ({tenant.tier}); enabled: {enabled}.",
            code="panel_type_not_enabled", details={"panel_type": panel_type.name, "enabled": enabled.split(", ")},
        )


def _check_limits(tenant, panel_type, expert_count: int, estimate: dict | None = None) -> None:
    limits = tenant.configuration.limits
    _check_panel_type(tenant, panel_type)
    now = timezone.now()
    month_start, month_end = _month_window(now)
    this_month = Panel.objects.filter(created_at__gte=month_start).count()
    if this_month >= limits.max_panels_per_month:
        raise LimitExceeded(
            f"Your plan allows {limits.max_panels_per_month} panels a month and {this_month} were created this "
            f"month; the count resets on {month_end.date().isoformat()}.",
            details={"limit": "max_panels_per_month", "value": limits.max_panels_per_month,
                     "resets_at": month_end.isoformat(), "retry_after_seconds": int((month_end - now).total_seconds())},
        )
    running = Panel.objects.exclude(status__in=FINAL).count()
    if running >= limits.max_concurrent_panels:
        raise LimitExceeded(
            f"Your plan runs at most {limits.max_concurrent_panels} panel(s) at once and {running} are running; "
            "wait for one to finish or cancel one.",
            details={"limit": "max_concurrent_panels", "value": limits.max_concurrent_panels, "running": running,
                     "retry_after_seconds": 30},
        )
    if estimate is not None:
        _check_budget(tenant, estimate)


BUDGET_NAMES = {"tokens": "monthly_token_budget", "cost": "monthly_cost_budget_usd"}


def _check_budget(tenant, estimate: dict) -> None:
    """Refuse a panel whose expected figure does not fit what is left of this month's token
    or cost budget, once the ledger and the panels still running (their remaining
    estimate) are counted."""
    fit = budget_fit(tenant=tenant, tokens=estimate["tokens"], cost=estimate["cost"])
    for measure in ("tokens", "cost"):
        figures = fit[measure]
        if figures["fits"]:
            continue
        amount = (lambda value: f"{value:,} tokens") if measure == "tokens" else (lambda value: f"${value:,.4f}")
        raise LimitExceeded(
            f"This panel is expected to use about {amount(figures['estimate'])}, but only "
            f"{amount(figures['remaining'])} of your monthly {measure} budget of {amount(figures['limit'])} is left "
            f"({amount(figures['used'])} used, {amount(figures['reserved'])} reserved by panels still running). "
            f"Choose fewer experts or rounds, or wait until the budget resets on {fit['resets_at'][:10]}.",
            code="budget_exceeded",
            details={"limit": BUDGET_NAMES[measure], "measure": measure, "value": figures["limit"],
                     "estimate": figures["estimate"], "used": figures["used"], "reserved": figures["reserved"],
                     "remaining": figures["remaining"], "resets_at": fit["resets_at"],
                     "retry_after_seconds": fit["retry_after_seconds"]},
        )


def _expert_bounds(tenant, panel_type) -> tuple[int, int]:
    maximum = min(panel_type.max_experts, tenant.configuration.limits.max_experts_per_panel)
    return panel_type.min_experts, maximum


@dataclass(frozen=True)
class PanelAsked:
    """A panel request that passed validation: what panel_create would create."""

    kind: PanelType
    query: str
    rounds: int
    document_ids: list[int]
    seats: list[tuple[Agent, str]]


def _panel_validate(tenant, *, query: str, panel_type: str, experts: list[str] | None, max_rounds: int | None,
                    documents: list[int] | None, rank: bool = True) -> PanelAsked:
    """Everything a panel request is checked on before anything is written. Without
    `rank`, no experts are ranked when none are given: the seats stay empty and the
    count panel_create would aim for is used (an estimate needs only the count)."""
    kind = panel_type_get(panel_type)
    query = (query or "").strip()
    if not QUERY_MIN <= len(query) <= QUERY_MAX:
        raise InvalidPanel(f"The question must be {QUERY_MIN} to {QUERY_MAX} characters; it has {len(query)}.",
                           details={"field": "query"})
    minimum, maximum = _expert_bounds(tenant, kind)
    rounds = kind.default_rounds if max_rounds is None else max_rounds
    if not 1 <= rounds <= kind.max_rounds:
        raise InvalidPanel(f"A {kind.name} panel runs 1 to {kind.max_rounds} rounds; you asked for {rounds}.",
                           details={"field": "max_rounds"})
    document_ids = sorted(set(documents or []))
    if document_ids:
        found = set(Document.objects.filter(pk__in=document_ids, status=Document.Status.READY).values_list("pk", flat=True))
        missing = [d for d in document_ids if d not in found]
        if missing:
            raise InvalidPanel(f"Unknown or unprocessed document(s): {', '.join(map(str, missing))}.",
                               details={"field": "documents", "missing": missing})
    seats = _seats(query=query, kind=kind, experts=experts, minimum=minimum, maximum=maximum) \
        if experts or rank else []
    return PanelAsked(kind=kind, query=query, rounds=rounds, document_ids=document_ids, seats=seats)


def panel_preflight(*, user, query: str, panel_type: str, experts: list[str] | None = None,
                    max_rounds: int | None = None, documents: list[int] | None = None) -> dict:
    """The estimate of a panel before asking it (panel_estimate, with the budget), checked
    exactly as panel_create checks it; writes nothing. Without experts, the count that
    ranking would aim for is estimated, without ranking."""
    tenant = current_tenant()
    asked = _panel_validate(tenant, query=query, panel_type=panel_type, experts=experts, max_rounds=max_rounds,
                            documents=documents, rank=False)
    _check_panel_type(tenant, asked.kind)
    return panel_estimate(tenant=tenant, query=asked.query, panel_type=asked.kind.name,
                          experts=len(asked.seats) or None, max_rounds=asked.rounds)


def panel_create(*, user, query: str, panel_type: str, experts: list[str] | None = None,
                 max_rounds: int | None = None, documents: list[int] | None = None, enqueue: bool = True) -> Panel:
    """Validate, pick experts (ranking) when none are given, check the plan's limits and the
    month's budget against the panel's estimate, create the panel and queue it."""
    tenant = current_tenant()
    asked = _panel_validate(tenant, query=query, panel_type=panel_type, experts=experts, max_rounds=max_rounds,
                            documents=documents)
    kind, seats = asked.kind, asked.seats
    estimate = panel_estimate(tenant=tenant, query=asked.query, panel_type=kind.name, experts=len(seats),
                              max_rounds=asked.rounds, budget=False)
    _check_limits(tenant, kind, len(seats), estimate)

    threshold = tenant.configuration.panel_defaults.consensus_threshold \
        if tenant.configuration.panel_defaults.panel_type == kind.name else kind.consensus_threshold
    with transaction.atomic():
        # Serialise creations per tenant so two requests cannot both pass the limits (and
        # the budget: a panel created here reserves its estimate until it is final).
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"panel-create:{tenant.schema_name}"])
        _check_limits(tenant, kind, len(seats), estimate)
        panel = Panel.objects.create(
            query=asked.query, panel_type=kind.name, owner=user, tenant_schema=tenant.schema_name,
            settings={"max_rounds": asked.rounds, "consensus_threshold": threshold, "documents": asked.document_ids,
                      "estimate": {"tokens": estimate["tokens"], "cost": estimate["cost"] or 0,
                                   "plan_tokens": estimate["basis"]["plan_tokens"]}},
        )
        PanelMember.objects.bulk_create([
            PanelMember.seating(agent, panel=panel, role=role, seat=seat) for seat, (agent, role) in enumerate(seats)
        ])
        panel.transition(Status.QUEUED)
        panel_event(panel, "status", status="queued")
        if enqueue:
            from panels.tasks import panel_run_task

            transaction.on_commit(lambda: panel_run_task.delay(panel.pk))
    logger.info("panel %s created (%s, %d experts)", panel.pk, kind.name, len(seats))
    return panel


def _seats(*, query, kind, experts, minimum, maximum) -> list[tuple[Agent, str]]:
    if experts:
        slugs = list(dict.fromkeys(experts))
        if not minimum <= len(slugs) <= maximum:
            raise InvalidPanel(f"A {kind.name} panel needs {minimum} to {maximum} experts; you chose {len(slugs)}.",
                               details={"field": "experts", "min": minimum, "max": maximum})
        agents = {a.slug: a for a in Agent.objects.filter(slug__in=slugs, is_active=True)}
        if current_tenant().configuration.features.custom_agents:  # the tenant's private experts too
            agents.update((a.slug, a) for a in CustomAgent.objects.filter(slug__in=slugs))
        unknown = [s for s in slugs if s not in agents]
        if unknown:
            raise InvalidPanel(f"Unknown or retired expert(s): {', '.join(unknown)}.",
                               details={"field": "experts", "unknown": unknown})
        disabled = sorted(set(slugs) & set(preferences_get().disabled))
        if disabled:
            raise InvalidPanel(f"Your organisation disabled: {', '.join(disabled)}.",
                               details={"field": "experts", "disabled": disabled})
        chosen = [agents[s] for s in slugs]
        return list(zip(chosen, _roles_for(kind, chosen)))
    count = max(minimum, min(kind.default_experts, maximum))
    ranked = rank_agents(question=query, k=count, minimum=minimum, role_plan=kind.role_plan)
    if len(ranked) < minimum:
        raise InvalidPanel(f"Only {len(ranked)} eligible experts were found; a {kind.name} panel needs {minimum}.",
                           details={"field": "experts"})
    return [(item.agent, item.role) for item in ranked]


def _roles_for(kind, agents: list[Agent]) -> list[str]:
    """Roles for hand-picked experts: debates get a moderator (the most balanced) and two sides."""
    if not kind.role_plan:
        return ["expert"] * len(agents)
    order = {"balanced": 0, "advocate": 1, "skeptic": 2}
    moderator = min(range(len(agents)), key=lambda i: (order[agents[i].disposition], i))
    roles, side = [], 0
    for index, agent in enumerate(agents):
        if index == moderator:
            roles.append("moderator")
            continue
        if agent.disposition == "advocate":
            roles.append("pro")
        elif agent.disposition == "skeptic":
            roles.append("con")
        else:
            roles.append(("pro", "con")[side % 2])
            side += 1
    return roles


def panel_cancel(*, panel: Panel, user=None) -> Panel:
    """`user` is who cancels (audited; None: the system)."""
    panel.assert_tenant()
    if panel.is_final:
        raise Conflict(f"Panel {panel.pk} is already {panel.status.lower()}; there is nothing to cancel.",
                       code="panel_final")
    with transaction.atomic():
        panel.transition(Status.CANCELLED, error="Cancelled by the user.")
        panel_event(panel, "status", status="cancelled")
        audit_record(tenant=current_tenant(), action="panel_cancelled", actor=user, target_kind="panel",
                     target_id=panel.pk, target_label=panel.query[:300])
    return panel


def panel_human_input(*, panel: Panel, expert_name: str, text: str, enqueue: bool = True) -> Contribution:
    """A human expert's contribution to a hybrid panel that is waiting for it; resumes the panel."""
    panel.assert_tenant()
    expert_name, text = (expert_name or "").strip(), (text or "").strip()
    if not expert_name or len(expert_name) > 200:
        raise InvalidPanel("`expert_name` is required (at most 200 characters).", details={"field": "expert_name"})
    if not 10 <= len(text) <= 5000:
        raise InvalidPanel("`text` must be 10 to 5000 characters.", details={"field": "text"})
    if panel.status != Status.AWAITING_INPUT:
        raise Conflict(f"Panel {panel.pk} is {panel.status.lower()}, not awaiting human input.",
                       code="not_awaiting_input")
    with transaction.atomic():
        locked = Panel.objects.select_for_update().get(pk=panel.pk)
        if locked.status != Status.AWAITING_INPUT:
            raise Conflict(f"Panel {panel.pk} is no longer awaiting human input.", code="not_awaiting_input")
        round_ = Round.objects.get(panel=locked, number=locked.current_round)
        seat = (PanelMember.objects.filter(panel=locked).order_by("-seat").values_list("seat", flat=True).first() or 0) + 1
        member = PanelMember.objects.create(panel=locked, agent=None, role=PanelMember.Role.HUMAN, seat=seat,
                                            human_name=expert_name)
        contribution = Contribution.objects.create(
            panel=locked, round=round_, member=member, kind=Contribution.Kind.HUMAN_INPUT, text=text,
            position=text.split(". ")[0][:500],
        )
        locked.input_deadline = None
        locked.save_versioned("input_deadline")
        locked.transition(Status.IN_PROGRESS)
        panel_event(locked, "contribution", round=round_.number, member=expert_name, kind="human_input",
                    contribution_id=contribution.pk)
        panel_event(locked, "status", status="in_progress")
        if enqueue:
            from panels.tasks import panel_run_task

            transaction.on_commit(lambda: panel_run_task.delay(locked.pk))
    panel.refresh_from_db()
    return contribution


def panel_rate(*, panel: Panel, user, score: int, comment: str = "") -> PanelRating:
    panel.assert_tenant()
    if not isinstance(score, int) or not 1 <= score <= 5:
        raise InvalidPanel("`score` must be a whole number from 1 to 5.", details={"field": "score"})
    if panel.status != Status.COMPLETED:
        raise Conflict(f"Only a completed panel can be rated; panel {panel.pk} is {panel.status.lower()}.",
                       code="panel_not_completed")
    with transaction.atomic():
        if PanelRating.objects.filter(panel=panel, user=user).exists():
            raise Conflict("You already rated this panel.", code="already_rated")
        rating = PanelRating.objects.create(panel=panel, user=user, score=score, comment=(comment or "")[:2000])
        members = list(panel.members.select_related("agent", "custom_agent"))
        agent_rating_record(agents=[m.expert for m in members if m.expert is not None], score=score)
    return rating


def human_input_deadline() -> datetime:
    return timezone.now() + timedelta(hours=HUMAN_INPUT_HOURS)


def panel_await_human_input(*, panel: Panel) -> None:
    """Pause a hybrid panel for human experts until the deadline; a task closes the
    window at the deadline if nobody has answered."""
    deadline = human_input_deadline()
    with transaction.atomic():
        panel.input_deadline = deadline
        panel.save_versioned("input_deadline")
        panel.transition(Status.AWAITING_INPUT)
        panel_event(panel, "status", status="awaiting_input", deadline=deadline.isoformat())
        from panels.tasks import panel_input_deadline_task

        transaction.on_commit(lambda: panel_input_deadline_task.apply_async((panel.pk,), eta=deadline))


