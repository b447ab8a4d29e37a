"""Reads of usage and billing (public schema tables, filtered by tenant)."""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from tenants.billing.models import DailyRollup, Price, UsageEvent
from tenants.billing.rollups import day_window


def month_window(moment: datetime | date | None = None) -> tuple[datetime, datetime]:
    """The calendar month holding `moment` (default now): [first day 00:00, next first day)."""
    moment = moment or timezone.now()
    if not isinstance(moment, datetime):
        moment = datetime(moment.year, moment.month, 1, tzinfo=timezone.get_current_timezone())
    start = moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return start, start + timedelta(days=calendar.monthrange(start.year, start.month)[1])


def price_get(*, provider: str, model: str) -> tuple[Decimal, Decimal] | None:
    """USD per million input and output tokens, or None for a model without a price."""
    row = (Price.objects.filter(provider=provider, model__in=[model, model.split("/")[-1]])
           .order_by("-model").values_list("input_per_million", "output_per_million").first())
    return row


@dataclass(frozen=True)
class Totals:
    input_tokens: int
    output_tokens: int
    cost: Decimal
    llm_calls: int
    panels_started: int

    @property
    def tokens(self) -> int:
        return self.input_tokens + self.output_tokens


def usage_totals(*, tenant, start: datetime, end: datetime, user_id: int | None = None) -> Totals:
    """What the tenant (or one of its users) used in [start, end), summed from the ledger
    directly: the plain reference that the rollup-based reads below are tested against."""
    events = UsageEvent.objects.filter(tenant=tenant, occurred_at__gte=start, occurred_at__lt=end)
    if user_id is not None:
        events = events.filter(user_id=user_id)
    row = events.aggregate(input=Sum("input_tokens"), output=Sum("output_tokens"), cost=Sum("cost"),
                           calls=Count("id", filter=Q(kind=UsageEvent.Kind.LLM_CALL)),
                           panels=Count("id", filter=Q(kind=UsageEvent.Kind.PANEL_STARTED)))
    return Totals(input_tokens=row["input"] or 0, output_tokens=row["output"] or 0, cost=row["cost"] or Decimal(0),
                  llm_calls=row["calls"], panels_started=row["panels"])


GROUPS = ("day", "kind", "provider", "model", "panel_type", "user_id")
SUMS = ("events", "input_tokens", "output_tokens", "cost", "quantity")


def usage_sums(*, tenant, start: datetime, end: datetime, by: tuple[str, ...], user_id: int | None = None,
               kinds: Iterable[str] | None = None) -> list[dict]:
    """The ledger of [start, end) summed per `by` (one or more of GROUPS; `day` is the UTC
    day): one dict per group with the group's fields and SUMS. Equal to summing the ledger
    directly, read from the daily rollups for the whole UTC days before yesterday (final: beat
    rolls up today and yesterday every 5 minutes, tenants.billing.tasks) and from the ledger
    for the rest (from yesterday 00:00 UTC on, and any part day at the edges), so a month's
    report reads a few hundred rollup rows and two days of ledger, not the month's ledger."""
    assert by and set(by) <= set(GROUPS), f"group by one or more of {GROUPS}, not {by}"
    yesterday = day_window(timezone.now().astimezone(UTC).date() - timedelta(days=1))[0]
    rolled_from = _next_midnight(start)
    rolled_until = max(rolled_from, _last_midnight(min(end, yesterday)))  # [rolled_from, rolled_until): rollups

    rollups = DailyRollup.objects.filter(tenant=tenant, day__gte=rolled_from.date(), day__lt=rolled_until.date())
    ledger = UsageEvent.objects.filter(
        Q(occurred_at__gte=start, occurred_at__lt=min(rolled_from, end))
        | Q(occurred_at__gte=max(rolled_until, start), occurred_at__lt=end), tenant=tenant)
    if "day" in by:
        ledger = ledger.annotate(day=TruncDate("occurred_at", tzinfo=UTC))
    if user_id is not None:
        rollups, ledger = rollups.filter(user_id=user_id), ledger.filter(user_id=user_id)
    if kinds is not None:
        rollups, ledger = rollups.filter(kind__in=list(kinds)), ledger.filter(kind__in=list(kinds))
    sums = {name: Sum(name) for name in ("input_tokens", "output_tokens", "cost", "quantity")}
    rows = [*rollups.values(*by).annotate(events=Sum("events"), **sums),
            *ledger.values(*by).annotate(events=Count("id"), **sums)]
    merged = {}
    for row in rows:
        key = tuple(row[name] for name in by)
        if key not in merged:
            merged[key] = row
            continue
        for name in SUMS:
            merged[key][name] += row[name]
    return list(merged.values())


def _next_midnight(moment: datetime) -> datetime:
    """The first UTC midnight at or after `moment`."""
    midnight = day_window(moment.astimezone(UTC).date())[0]
    return midnight if midnight == moment else midnight + timedelta(days=1)


def _last_midnight(moment: datetime) -> datetime:
    """The last UTC midnight at or before `moment`."""
    return day_window(moment.astimezone(UTC).date())[0]


def period_totals(*, tenant, start: datetime, end: datetime) -> Totals:
    """The tenant's totals in [start, end) (usage_sums): what the budgets and the monthly
    panel count are measured against."""
    rows = usage_sums(tenant=tenant, start=start, end=end, by=("kind",))
    return Totals(input_tokens=sum(row["input_tokens"] for row in rows),
                  output_tokens=sum(row["output_tokens"] for row in rows),
                  cost=sum((row["cost"] for row in rows), Decimal(0)),
                  llm_calls=sum(row["events"] for row in rows if row["kind"] == UsageEvent.Kind.LLM_CALL),
                  panels_started=sum(row["events"] for row in rows if row["kind"] == UsageEvent.Kind.PANEL_STARTED))


@dataclass(frozen=True)
class Budget:
    """One budget (tokens or cost) this period: used against the soft and hard limits."""

    measure: str  # "tokens" | "cost"
    limit: Decimal
    used: Decimal
    soft_percent: int

    @property
    def soft_limit(self) -> Decimal:
        return self.limit * self.soft_percent / 100

    @property
    def remaining(self) -> Decimal:
        return max(self.limit - self.used, Decimal(0))

    @property
    def percent(self) -> float:
        return float(self.used / self.limit * 100) if self.limit else 100.0

    @property
    def level(self) -> str:
        """ok, soft (at or past the soft limit) or hard (the budget is used up)."""
        if self.used >= self.limit:
            return "hard"
        return "soft" if self.used >= self.soft_limit else "ok"

    def as_dict(self) -> dict:
        number = int if self.measure == "tokens" else float
        return {"measure": self.measure, "limit": number(self.limit), "used": number(self.used),
                "remaining": number(self.remaining), "soft_limit": number(self.soft_limit),
                "percent": round(self.percent, 1), "level": self.level}


@dataclass(frozen=True)
class BudgetStatus:
    period_start: datetime
    resets_at: datetime
    tokens: Budget
    cost: Budget

    @property
    def level(self) -> str:
        levels = {self.tokens.level, self.cost.level}
        return "hard" if "hard" in levels else "soft" if "soft" in levels else "ok"

    def as_dict(self) -> dict:
        return {"period_start": self.period_start.isoformat(), "resets_at": self.resets_at.isoformat(),
                "level": self.level, "tokens": self.tokens.as_dict(), "cost": self.cost.as_dict()}


def budget_status(*, tenant, now: datetime | None = None) -> BudgetStatus:
    """The tenant's monthly budgets against what the ledger holds for this month."""
    start, end = month_window(now)
    return budget_of(tenant=tenant, start=start, end=end, used=period_totals(tenant=tenant, start=start, end=end))


def budget_of(*, tenant, start: datetime, end: datetime, used: Totals) -> BudgetStatus:
    """The tenant's monthly budgets for the month [start, end) against `used`."""
    limits = tenant.configuration.limits
    soft = limits.budget_soft_limit_percent
    return BudgetStatus(
        period_start=start, resets_at=end,
        tokens=Budget("tokens", Decimal(limits.monthly_token_budget), Decimal(used.tokens), soft),
        cost=Budget("cost", Decimal(limits.monthly_cost_budget_usd), used.cost, soft),
    )
