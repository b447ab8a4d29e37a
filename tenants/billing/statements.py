"""A tenant's month in figures, from the ledger: the usage report (this period against limits
and budgets, by day, model, panel type and user) and the monthly statement (line items,
totals, plan, budget), closed once a month is over and downloadable as CSV and PDF.

The current month is never closed: it is shown as an open statement, built live. A month
before it is closed by `statements_close` (the beat schedule) and then read from its row."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from config.errors import DomainError, NotFound
from tenants.billing.models import Statement, UsageEvent
from tenants.billing.selectors import (
    budget_of,
    month_window,
    period_totals,
    usage_sums,
    usage_totals,
)
from tenants.models import Tenant

Kind = UsageEvent.Kind
PANEL_KINDS = {Kind.PANEL_STARTED: "started", Kind.PANEL_COMPLETED: "completed", Kind.PANEL_FAILED: "failed"}
BYTES_PER_GB = 1024**3
SECONDS_PER_DAY = 86_400
COST_PLACES = 6


class InvalidMonth(DomainError):
    code = "invalid_month"
    status_code = 400


class MonthNotClosable(DomainError):
    code = "month_not_closable"
    status_code = 409


# --- months -------------------------------------------------------------------------------


def month_of(moment: datetime | date | None = None) -> date:
    """The first day of the month holding `moment` (default now)."""
    moment = timezone.localtime(moment) if isinstance(moment, datetime) else (moment or timezone.localdate())
    return date(moment.year, moment.month, 1)


def month_parse(text: str) -> date:
    """'2025-06' -> date(2025, 6, 1); anything else is refused with what to send."""
    try:
        year, month = text.split("-")
        if len(year) != 4 or len(month) != 2:
            raise ValueError
        return date(int(year), int(month), 1)
    except (ValueError, AttributeError):
        raise InvalidMonth(f"A month is written YYYY-MM, e.g. {month_of():%Y-%m}; got {str(text)[:20]!r}.",
                           details={"month": str(text)[:20]}) from None


def _window(month: date) -> tuple[datetime, datetime]:
    return month_window(month_of(month))


def _money(value) -> float:
    return float(round(Decimal(value or 0), COST_PLACES))


def _events(*, tenant, month: date, user_id: int | None = None):
    start, end = _window(month)
    events = UsageEvent.objects.filter(tenant=tenant, occurred_at__gte=start, occurred_at__lt=end)
    return events if user_id is None else events.filter(user_id=user_id)


# --- the usage report (API and page) -------------------------------------------------------


def usage_month(*, tenant, month: date | None = None, user_id: int | None = None,
                with_users: bool = False) -> dict:
    """The month's usage: the whole tenant, or one user's own (`user_id`). Budgets and plan
    limits are the tenant's (they are what a member's panels draw on); `with_users` adds the
    top users (for tenant admins).

    Every figure comes from usage_sums: the daily rollups for the days before yesterday, the
    ledger after."""
    month = month_of(month)
    start, end = _window(month)
    days = [(start + timedelta(days=offset)).date() for offset in range((end - start).days)]
    by_day = {day: {"day": day.isoformat(), "llm_calls": 0, "input_tokens": 0, "output_tokens": 0, "tokens": 0,
                    "cost": Decimal(0)} for day in days}
    by_model, by_type = {}, {}
    series = {"tokens_by_model": defaultdict(lambda: [0] * len(days)),
              "cost_by_model": defaultdict(lambda: [0.0] * len(days)),
              "tokens_by_panel_type": defaultdict(lambda: [0] * len(days))}
    rows = usage_sums(tenant=tenant, start=start, end=end, user_id=user_id, kinds=[Kind.LLM_CALL, *PANEL_KINDS],
                      by=("day", "kind", "provider", "model", "panel_type"))
    for row in rows:
        kind = _panel_type_row(by_type, row["panel_type"])
        if row["kind"] in PANEL_KINDS:
            kind[PANEL_KINDS[row["kind"]]] += row["events"]
            continue
        tokens = row["input_tokens"] + row["output_tokens"]
        day = by_day[row["day"]]
        model = by_model.setdefault((row["provider"], row["model"]), {
            "provider": row["provider"], "model": row["model"], "llm_calls": 0, "input_tokens": 0,
            "output_tokens": 0, "tokens": 0, "cost": Decimal(0)})
        for target in (day, model, kind):
            target["llm_calls"] += row["events"]
            target["input_tokens"] += row["input_tokens"]
            target["output_tokens"] += row["output_tokens"]
            target["tokens"] += tokens
            target["cost"] += row["cost"]
        index = days.index(row["day"])
        series["tokens_by_model"][row["model"]][index] += tokens
        series["cost_by_model"][row["model"]][index] += float(row["cost"])
        series["tokens_by_panel_type"][row["panel_type"] or "(not a panel)"][index] += tokens

    limits = tenant.configuration.limits
    tenant_totals = period_totals(tenant=tenant, start=start, end=end)  # budgets and limits are the tenant's
    report = {
        "month": f"{month:%Y-%m}", "period_start": start.isoformat(), "period_end": end.isoformat(),
        "scope": "tenant" if user_id is None else "user",
        "budget": budget_of(tenant=tenant, start=start, end=end, used=tenant_totals).as_dict(),
        "limits": {
            "panels_this_month": tenant_totals.panels_started,
            "max_panels_per_month": limits.max_panels_per_month,
            "running": panels_running(tenant=tenant),
            "max_concurrent_panels": limits.max_concurrent_panels,
        },
        "totals": _totals(list(by_model.values()), by_type),
        "by_day": [_rounded(row) for row in by_day.values()],
        "by_model": sorted((_rounded(row) for row in by_model.values()), key=lambda row: -row["tokens"]),
        "by_panel_type": sorted((_rounded(row) for row in by_type.values()), key=lambda row: -row["tokens"]),
        "series": {name: dict(values) for name, values in series.items()},
        "days": [day.isoformat() for day in days],
    }
    if with_users:
        report["top_users"] = users_top(tenant=tenant, month=month)
    return report


def _panel_type_row(rows: dict, panel_type: str) -> dict:
    return rows.setdefault(panel_type, {
        "panel_type": panel_type, "started": 0, "completed": 0, "failed": 0, "llm_calls": 0,
        "input_tokens": 0, "output_tokens": 0, "tokens": 0, "cost": Decimal(0)})


def _rounded(row: dict) -> dict:
    return {**row, "cost": _money(row["cost"])}


def _totals(models: list[dict], types: dict) -> dict:
    return {
        "llm_calls": sum(row["llm_calls"] for row in models),
        "input_tokens": sum(row["input_tokens"] for row in models),
        "output_tokens": sum(row["output_tokens"] for row in models),
        "tokens": sum(row["tokens"] for row in models),
        "cost": _money(sum((row["cost"] for row in models), Decimal(0))),
        "panels_started": sum(row["started"] for row in types.values()),
        "panels_completed": sum(row["completed"] for row in types.values()),
        "panels_failed": sum(row["failed"] for row in types.values()),
    }


# A panel runs for minutes, and one whose worker died is requeued within a minute
# (panels.requeue_stale); a start without an ending older than this is not a running panel.
PANELS_RUNNING_WITHIN = timedelta(days=2)


def panels_running(*, tenant) -> int:
    """Panels the ledger saw start in the last PANELS_RUNNING_WITHIN and not yet complete,
    fail or get cancelled."""
    events = UsageEvent.objects.filter(tenant=tenant, kind__in=[*PANEL_KINDS, Kind.PANEL_CANCELLED],
                                       occurred_at__gte=timezone.now() - PANELS_RUNNING_WITHIN)
    per_panel = events.values("panel_id").annotate(started=Count("id", filter=Q(kind=Kind.PANEL_STARTED)),
                                                   ended=Count("id", filter=~Q(kind=Kind.PANEL_STARTED)))
    return per_panel.filter(started__gt=0, ended=0).count()  # one pass over the tenant's panel events


def users_top(*, tenant, month: date, limit: int = 10) -> list[dict]:
    """The month's heaviest users by tokens, named from the tenant's schema (the active one)."""
    start, end = _window(month)
    users = {}
    for row in usage_sums(tenant=tenant, start=start, end=end, by=("user_id", "kind")):
        if row["user_id"] is None:
            continue
        user = users.setdefault(row["user_id"], {"user_id": row["user_id"], "tokens": 0, "cost": Decimal(0),
                                                 "panels": 0})
        user["tokens"] += row["input_tokens"] + row["output_tokens"]
        user["cost"] += row["cost"]
        user["panels"] += row["events"] if row["kind"] == Kind.PANEL_STARTED else 0
    rows = sorted(users.values(), key=lambda user: (-user["tokens"], user["user_id"]))[:limit]
    names = dict(get_user_model().objects.filter(pk__in=[row["user_id"] for row in rows])
                 .values_list("pk", "username"))
    return [{"user_id": row["user_id"], "username": names.get(row["user_id"], f"user {row['user_id']}"),
             "tokens": row["tokens"], "cost": _money(row["cost"]), "panels": row["panels"]} for row in rows]


# --- statements ---------------------------------------------------------------------------


def statement_build(*, tenant, month: date) -> dict:
    """A month's statement, built from the ledger: line items (panels by type, tokens and
    cost by model, storage GB-days, embeddings), totals, the plan and the budget."""
    month = month_of(month)
    start, end = _window(month)
    events = _events(tenant=tenant, month=month)
    lines = []
    for row in (events.filter(kind__in=PANEL_KINDS).values("panel_type", "kind").annotate(count=Count("id"))
                .order_by("panel_type", "kind")):
        lines.append(_line("panels", row["panel_type"] or "(unknown)", f"panels {PANEL_KINDS[row['kind']]}",
                           row["count"]))
    for row in (events.filter(kind=Kind.LLM_CALL).values("provider", "model", "billed_directly")
                .annotate(calls=Count("id"), input_tokens=Sum("input_tokens"), output_tokens=Sum("output_tokens"),
                          cost=Sum("cost")).order_by("provider", "model", "billed_directly")):
        unit = "calls on the tenant's own key (not charged)" if row["billed_directly"] else "calls"
        lines.append(_line("llm", f"{row['provider']}/{row['model']}", unit, row["calls"],
                           input_tokens=row["input_tokens"], output_tokens=row["output_tokens"], cost=row["cost"]))
    gb_days = storage_gb_days(tenant=tenant, start=start, end=min(end, max(timezone.now(), start)))
    lines.append(_line("storage", "documents", "GB-days", round(gb_days, 6)))
    embeddings = events.filter(kind=Kind.EMBEDDINGS).aggregate(texts=Sum("quantity"))["texts"] or 0
    lines.append(_line("embeddings", "document chunks", "texts embedded", embeddings))

    llm = [line for line in lines if line["section"] == "llm"]
    panels = defaultdict(int)
    for line in lines:
        if line["section"] == "panels":
            panels[line["unit"]] += line["quantity"]
    totals = {
        "cost": _money(sum(Decimal(str(line["cost"])) for line in lines)),
        "input_tokens": sum(line["input_tokens"] for line in llm),
        "output_tokens": sum(line["output_tokens"] for line in llm),
        "tokens": sum(line["input_tokens"] + line["output_tokens"] for line in llm),
        "llm_calls": sum(line["quantity"] for line in llm),
        "panels_started": panels["panels started"], "panels_completed": panels["panels completed"],
        "panels_failed": panels["panels failed"],
        "storage_gb_days": round(gb_days, 6), "embedding_texts": embeddings,
    }
    return {"tenant": tenant.schema_name, "tenant_name": tenant.name, "month": f"{month:%Y-%m}",
            "status": "open", "closed_at": None, "tier": tenant.tier, "lines": lines, "totals": totals,
            # A statement is a bill: its budget is measured on the ledger itself, like its lines.
            "budget": budget_of(tenant=tenant, start=start, end=end,
                                used=usage_totals(tenant=tenant, start=start, end=end)).as_dict()}


def _line(section: str, item: str, unit: str, quantity, *, input_tokens=0, output_tokens=0, cost=0) -> dict:
    return {"section": section, "item": item, "unit": unit, "quantity": quantity, "input_tokens": input_tokens or 0,
            "output_tokens": output_tokens or 0, "cost": _money(cost)}


def storage_gb_days(*, tenant, start: datetime, end: datetime) -> float:
    """Stored bytes integrated over [start, end), in GB-days: what was stored before `start`,
    then each document added or removed from the moment it was."""
    storage = UsageEvent.objects.filter(tenant=tenant, kind__in=[Kind.STORAGE_ADDED, Kind.STORAGE_REMOVED])
    before = storage.filter(occurred_at__lt=start).aggregate(
        added=Sum("quantity", filter=Q(kind=Kind.STORAGE_ADDED)),
        removed=Sum("quantity", filter=Q(kind=Kind.STORAGE_REMOVED)))
    stored = (before["added"] or 0) - (before["removed"] or 0)
    byte_seconds, since = 0.0, start
    for kind, occurred_at, quantity in (storage.filter(occurred_at__gte=start, occurred_at__lt=end)
                                        .order_by("occurred_at", "id").values_list("kind", "occurred_at", "quantity")):
        byte_seconds += stored * (occurred_at - since).total_seconds()
        stored += quantity if kind == Kind.STORAGE_ADDED else -quantity
        since = occurred_at
    byte_seconds += stored * max((end - since).total_seconds(), 0)
    return byte_seconds / SECONDS_PER_DAY / BYTES_PER_GB


def statement_close(*, tenant, month: date) -> Statement:
    """Close a month that is over (again: the same row is rebuilt, never a second one)."""
    month = month_of(month)
    if month >= month_of():
        raise MonthNotClosable(f"{month:%Y-%m} is not over yet; a month is closed once it has ended "
                               f"(the current one, {month_of():%Y-%m}, is shown as an open statement).",
                               details={"month": f"{month:%Y-%m}"})
    data = statement_build(tenant=tenant, month=month)
    statement, _ = Statement.objects.update_or_create(
        tenant=tenant, month=month,
        defaults={"tier": data["tier"], "lines": data["lines"], "totals": data["totals"], "budget": data["budget"],
                  "closed_at": timezone.now()})
    return statement


def statements_close(month: date) -> int:
    """Close `month` for every active tenant; how many statements were written."""
    closed = 0
    for tenant in Tenant.objects.filter(status=Tenant.Status.ACTIVE).exclude(schema_name="public").order_by("pk"):
        statement_close(tenant=tenant, month=month)
        closed += 1
    return closed


def statement_data(statement: Statement) -> dict:
    """A closed statement in the shape statement_build returns."""
    tenant = statement.tenant
    return {"tenant": tenant.schema_name, "tenant_name": tenant.name, "month": f"{statement.month:%Y-%m}",
            "status": "closed", "closed_at": statement.closed_at.isoformat(), "tier": statement.tier,
            "lines": statement.lines, "totals": statement.totals, "budget": statement.budget}


def statement_get(*, tenant, month: date) -> dict:
    """A month's statement: the closed one, else built live for the current month or a past
    month the ledger has events for; NotFound for a month with nothing (or not begun)."""
    month = month_of(month)
    closed = Statement.objects.filter(tenant=tenant, month=month).select_related("tenant").first()
    if closed is not None:
        return statement_data(closed)
    current = month_of()
    if month == current or (month < current and _events(tenant=tenant, month=month).exists()):
        return statement_build(tenant=tenant, month=month)
    raise NotFound(f"There is no statement for {month:%Y-%m}: nothing was used that month.",
                   details={"month": f"{month:%Y-%m}"})


def statements_list(*, tenant) -> list[dict]:
    """Every month with a statement, newest first: closed ones, past months not closed yet
    that have usage, and the current month (open)."""
    closed = {statement.month: statement for statement in
              Statement.objects.filter(tenant=tenant).select_related("tenant")}
    months = set(closed) | {month_of()} | {
        row.date() if isinstance(row, datetime) else row for row in
        UsageEvent.objects.filter(tenant=tenant).annotate(month=TruncMonth("occurred_at"))
        .values_list("month", flat=True).distinct()}
    listed = []
    for month in sorted(months, reverse=True):
        if month > month_of():
            continue
        data = statement_data(closed[month]) if month in closed else statement_build(tenant=tenant, month=month)
        listed.append(data)
    return listed


# --- downloads ----------------------------------------------------------------------------

CSV_COLUMNS = ("section", "item", "unit", "quantity", "input_tokens", "output_tokens", "cost_usd")


def statement_csv(data: dict) -> str:
    """The statement as CSV: a header block, one row per line item, then the totals."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["statement", data["tenant_name"], data["tenant"], data["month"], data["status"],
                     f"plan {data['tier']}"])
    writer.writerow(CSV_COLUMNS)
    for line in data["lines"]:
        writer.writerow([_cell(line["section"]), _cell(line["item"]), line["unit"], line["quantity"],
                         line["input_tokens"], line["output_tokens"], f"{line['cost']:.6f}"])
    totals = data["totals"]
    writer.writerow(["total", "", "", "", totals["input_tokens"], totals["output_tokens"], f"{totals['cost']:.6f}"])
    budget = data["budget"]
    for measure in ("tokens", "cost"):
        figures = budget.get(measure, {})
        writer.writerow(["budget", measure, "limit", figures.get("limit"), "", "", ""])
        writer.writerow(["budget", measure, "used", figures.get("used"), "", "", ""])
    return out.getvalue()


def _cell(text: str) -> str:
    """No spreadsheet formulas from a model name (CSV injection)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def statements_csv_all(*, month: date) -> str:
    """Every tenant's month in one CSV (the platform admin's export): one row per tenant."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["tenant", "name", "tier", "status", "month", "statement", "llm_calls", "input_tokens",
                     "output_tokens", "cost_usd", "panels_started", "storage_gb_days", "embedding_texts",
                     "budget_level"])
    for tenant in Tenant.objects.exclude(schema_name="public").order_by("schema_name"):
        try:
            data = statement_get(tenant=tenant, month=month)
        except NotFound:
            continue
        totals = data["totals"]
        writer.writerow([tenant.schema_name, _cell(tenant.name), data["tier"], tenant.status, data["month"],
                         data["status"], totals["llm_calls"], totals["input_tokens"], totals["output_tokens"],
                         f"{totals['cost']:.6f}", totals["panels_started"], totals["storage_gb_days"],
                         totals["embedding_texts"], data["budget"].get("level", "")])
    return out.getvalue()


def statement_pdf(data: dict, *, tenant_name: str) -> bytes:
    """The statement on one page or more: header, line items as a table, totals, budget."""
    from fpdf import FPDF

    def latin(text) -> str:
        return str(text).encode("latin-1", "replace").decode("latin-1")

    pdf = FPDF()
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 15)
    pdf.multi_cell(0, 8, latin(f"Statement {data['month']}: {tenant_name}"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=9)
    state = (f"closed {data['closed_at'][:10]}" if data["status"] == "closed"
             else "open: the month is not over, figures so far")
    pdf.multi_cell(0, 5, latin(f"Tenant {data['tenant']} - plan {data['tier']} - {state}"),
                   new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    widths = (22, 62, 46, 20, 20, 20)
    pdf.set_font("Helvetica", "B", 8)
    for width, title in zip(widths, ("Section", "Item", "Unit", "Quantity", "Tokens", "Cost USD")):
        pdf.cell(width, 6, title, border="B")
    pdf.ln()
    pdf.set_font("Helvetica", size=8)
    for line in data["lines"]:
        tokens = line["input_tokens"] + line["output_tokens"]
        cells = (line["section"], line["item"][:40], line["unit"][:30], _quantity(line["quantity"]),
                 f"{tokens:,}" if tokens else "", f"{line['cost']:.4f}" if line["cost"] else "")
        for width, value in zip(widths, cells):
            pdf.cell(width, 5, latin(value))
        pdf.ln()
    totals = data["totals"]
    pdf.ln(2)
    pdf.set_font("Helvetica", "B", 10)
    pdf.multi_cell(0, 6, latin(f"Total: ${totals['cost']:.4f} - {totals['tokens']:,} tokens in "
                               f"{totals['llm_calls']:,} calls - {totals['panels_started']} panels started"),
                   new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=9)
    pdf.multi_cell(0, 5, latin(f"Storage {totals['storage_gb_days']:.4f} GB-days - "
                               f"{totals['embedding_texts']:,} texts embedded"), new_x="LMARGIN", new_y="NEXT")
    budget = data["budget"]
    if budget:
        pdf.ln(2)
        for measure, label in (("tokens", "Token budget"), ("cost", "Cost budget (USD)")):
            figures = budget[measure]
            pdf.multi_cell(0, 5, latin(f"{label}: {figures['used']:,} of {figures['limit']:,} used "
                                       f"({figures['percent']}%, warning at {figures['soft_limit']:,})"),
                           new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def _quantity(value) -> str:
    return f"{value:,.4f}" if isinstance(value, float) else f"{value:,}"


# --- across tenants (the platform admin) ----------------------------------------------------


def tenants_usage(*, month: date) -> list[dict]:
    """Every tenant's month from one ledger aggregate, costliest first, with where it stands
    against its budgets (level ok, soft or hard, by the worse of tokens and cost)."""
    start, end = _window(month)
    sums = {row["tenant_id"]: row for row in
            UsageEvent.objects.filter(occurred_at__gte=start, occurred_at__lt=end).values("tenant_id")
            .annotate(input_tokens=Sum("input_tokens"), output_tokens=Sum("output_tokens"), cost=Sum("cost"),
                      panels=Count("id", filter=Q(kind=Kind.PANEL_STARTED)))}
    rows = []
    for tenant in Tenant.objects.exclude(schema_name="public").order_by("schema_name"):
        found = sums.get(tenant.pk, {})
        tokens = (found.get("input_tokens") or 0) + (found.get("output_tokens") or 0)
        cost = Decimal(found.get("cost") or 0)
        limits = tenant.configuration.limits
        percents = {"tokens": _percent(tokens, limits.monthly_token_budget),
                    "cost": _percent(cost, limits.monthly_cost_budget_usd)}
        worst = max(percents.values())
        level = "hard" if worst >= 100 else "soft" if worst >= limits.budget_soft_limit_percent else "ok"
        rows.append({"tenant": tenant, "tokens": tokens, "cost": _money(cost), "panels": found.get("panels") or 0,
                     "token_budget": limits.monthly_token_budget, "cost_budget": limits.monthly_cost_budget_usd,
                     "token_percent": percents["tokens"], "cost_percent": percents["cost"], "level": level})
    return sorted(rows, key=lambda row: (-row["cost"], -row["tokens"], row["tenant"].schema_name))


def _percent(used, limit) -> float:
    return round(float(Decimal(used) / Decimal(limit) * 100), 1) if limit else 100.0
