"""Reads of usage and billing (public schema tables, filtered by tenant)."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db.models import Count, Q, Sum
from django.utils import timezone

from tenants.billing.models import Price, UsageEvent


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
    """What the tenant (or one of its users) used in [start, end), from the ledger."""
    events = UsageEvent.objects.filter(tenant=tenant, occurred_at__gte=start, occurred_at__lt=end)
    if user_id is not None:
        events = events.filter(user_id=user_id)
    row = events.aggregate(input=Sum("input_tokens"), output=Sum("output_tokens"), cost=Sum("cost"),
                           calls=Count("id", filter=Q(kind=UsageEvent.Kind.LLM_CALL)),
                           panels=Count("id", filter=Q(kind=UsageEvent.Kind.PANEL_STARTED)))
    return Totals(input_tokens=row["input"] or 0, output_tokens=row["output"] or 0, cost=row["cost"] or Decimal(0),
                  llm_calls=row["calls"], panels_started=row["panels"])


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
    limits = tenant.configuration.limits
    totals = usage_totals(tenant=tenant, start=start, end=end)
    soft = limits.budget_soft_limit_percent
    return BudgetStatus(
        period_start=start, resets_at=end,
        tokens=Budget("tokens", Decimal(limits.monthly_token_budget), Decimal(totals.tokens), soft),
        cost=Budget("cost", Decimal(limits.monthly_cost_budget_usd), totals.cost, soft),
    )
