"""Daily rollups equal the ledger, per tenant x UTC day x kind x provider x model x panel type
x user, however often a day is rolled up."""

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from tenants.billing.models import DailyRollup, UsageEvent
from tenants.billing.rollups import rollup_day
from tenants.billing.services import usage_record

pytestmark = pytest.mark.django_db

DAY = date(2026, 3, 14)
NEXT_DAY = DAY + timedelta(days=1)


def at(day: date, hour: int, minute: int = 0, second: int = 0, microsecond: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, second, microsecond, tzinfo=UTC)


def record(tenant, key: str, when: datetime, kind: str = "llm_call", **fields) -> None:
    assert usage_record(tenant=tenant, kind=kind, key=f"rollup-test:{key}", occurred_at=when, **fields)


def ledger_sums(day: date) -> dict:
    """The ledger of `day`, summed in Python:
    {(tenant, kind, provider, model, panel type, user): (events, in, out, cost, quantity)}."""
    start = at(day, 0)
    sums = defaultdict(lambda: [0, 0, 0, Decimal(0), 0])
    for event in UsageEvent.objects.filter(occurred_at__gte=start, occurred_at__lt=start + timedelta(days=1)):
        row = sums[(event.tenant_id, event.kind, event.provider, event.model, event.panel_type, event.user_id)]
        row[0] += 1
        row[1] += event.input_tokens
        row[2] += event.output_tokens
        row[3] += event.cost
        row[4] += event.quantity
    return {key: tuple(row) for key, row in sums.items()}


def rollup_rows(day: date, tenant=None) -> dict:
    rows = DailyRollup.objects.filter(day=day)
    if tenant is not None:
        rows = rows.filter(tenant=tenant)
    return {(r.tenant_id, r.kind, r.provider, r.model, r.panel_type, r.user_id):
            (r.events, r.input_tokens, r.output_tokens, r.cost, r.quantity) for r in rows}


@pytest.fixture
def ledger(alpha, beta):
    """Two tenants' usage around DAY, with events on the very edges of the UTC day."""
    record(alpha, "a1", at(DAY, 0), provider="openai", model="gpt-4o-mini", input_tokens=100, output_tokens=20,
           cost=Decimal("0.00002700"))
    record(alpha, "a2", at(DAY, 12, 30), provider="openai", model="gpt-4o-mini", input_tokens=50, output_tokens=5,
           cost=Decimal("0.00001050"))
    record(alpha, "a3", at(DAY, 23, 59, 59, 999999), provider="anthropic", model="claude-haiku", input_tokens=7,
           output_tokens=3, cost=Decimal("0.00000900"))
    record(alpha, "a4", at(DAY, 9), kind="panel_started", panel_type="open", quantity=5)
    record(alpha, "a5", at(DAY, 10), kind="storage_added", quantity=4096)
    record(alpha, "a6", at(DAY, 11), kind="storage_removed", quantity=1024)
    record(alpha, "a7", at(DAY, 11), kind="embeddings", quantity=12)
    record(alpha, "before", at(DAY, 0) - timedelta(microseconds=1), provider="openai", model="gpt-4o-mini",
           input_tokens=1000, output_tokens=1000, cost=Decimal(1))
    record(alpha, "after", at(NEXT_DAY, 0), provider="openai", model="gpt-4o-mini", input_tokens=2000,
           output_tokens=2000, cost=Decimal(2))
    record(beta, "b1", at(DAY, 8), provider="openai", model="gpt-4o-mini", input_tokens=300, output_tokens=30,
           cost=Decimal("0.00010000"))
    record(beta, "b2", at(DAY, 8, 1), kind="panel_started", panel_type="delphi", quantity=3)
    return alpha, beta


def test_rollup_sums_equal_the_ledger_per_tenant_day_kind_and_model(ledger):
    alpha, beta = ledger

    written = rollup_day(DAY)

    rows = rollup_rows(DAY)
    assert rows == ledger_sums(DAY)
    assert written == len(rows)
    assert rows[(alpha.pk, "llm_call", "openai", "gpt-4o-mini", "", None)] == (2, 150, 25, Decimal("0.00003750"), 0)
    assert rows[(alpha.pk, "llm_call", "anthropic", "claude-haiku", "", None)] == (1, 7, 3, Decimal("0.00000900"), 0)
    assert rows[(alpha.pk, "storage_added", "", "", "", None)] == (1, 0, 0, Decimal(0), 4096)
    assert rows[(beta.pk, "panel_started", "", "", "delphi", None)] == (1, 0, 0, Decimal(0), 3)


def test_events_on_either_side_of_midnight_utc_belong_to_their_own_day(ledger):
    alpha, _ = ledger

    rollup_day(DAY - timedelta(days=1))
    rollup_day(NEXT_DAY)

    assert rollup_rows(DAY - timedelta(days=1), alpha)[(alpha.pk, "llm_call", "openai", "gpt-4o-mini", "", None)][1] == 1000
    assert rollup_rows(NEXT_DAY, alpha)[(alpha.pk, "llm_call", "openai", "gpt-4o-mini", "", None)][1] == 2000
    assert rollup_rows(DAY - timedelta(days=1)) == ledger_sums(DAY - timedelta(days=1))
    assert rollup_rows(NEXT_DAY) == ledger_sums(NEXT_DAY)


def test_rolling_up_a_day_again_gives_the_same_rows(ledger):
    rollup_day(DAY)
    first = rollup_rows(DAY)

    written = rollup_day(DAY)

    assert rollup_rows(DAY) == first
    assert written == len(first)
    assert DailyRollup.objects.filter(day=DAY).count() == len(first)


def test_a_late_event_is_picked_up_when_the_day_is_rolled_up_again(ledger):
    alpha, _ = ledger
    rollup_day(DAY)

    record(alpha, "late", at(DAY, 18), provider="openai", model="gpt-4o-mini", input_tokens=1, output_tokens=1,
           cost=Decimal("0.00000100"))
    record(alpha, "late-new-model", at(DAY, 18), provider="openai", model="gpt-4o", input_tokens=2, output_tokens=2)
    rollup_day(DAY)

    rows = rollup_rows(DAY)
    assert rows == ledger_sums(DAY)
    assert rows[(alpha.pk, "llm_call", "openai", "gpt-4o-mini", "", None)] == (3, 151, 26, Decimal("0.00003850"), 0)
    assert rows[(alpha.pk, "llm_call", "openai", "gpt-4o", "", None)][0] == 1


def test_tenants_never_mix_and_one_tenants_rollup_leaves_the_others_alone(ledger):
    alpha, beta = ledger
    rollup_day(DAY)
    beta_before = rollup_rows(DAY, beta)
    assert all(key[0] == beta.pk for key in beta_before)
    assert rollup_rows(DAY, alpha) != {} and not set(rollup_rows(DAY, alpha)) & set(beta_before)

    record(alpha, "alpha-only", at(DAY, 20), provider="openai", model="gpt-4o-mini", input_tokens=9)
    record(beta, "beta-late", at(DAY, 20), provider="openai", model="gpt-4o-mini", input_tokens=9)
    rollup_day(DAY, tenant=alpha)

    assert rollup_rows(DAY, beta) == beta_before  # beta's late event waits for a rollup of beta
    assert rollup_rows(DAY, alpha) == {key: sums for key, sums in ledger_sums(DAY).items() if key[0] == alpha.pk}
    rollup_day(DAY)
    assert rollup_rows(DAY) == ledger_sums(DAY)


def test_rows_are_split_by_provider_panel_type_and_user(alpha):
    record(alpha, "u7-open-1", at(DAY, 9), provider="openai", model="gpt-4o", panel_type="open", user_id=7,
           input_tokens=10)
    record(alpha, "u7-open-2", at(DAY, 10), provider="openai", model="gpt-4o", panel_type="open", user_id=7,
           input_tokens=20)
    record(alpha, "u8-open", at(DAY, 9), provider="openai", model="gpt-4o", panel_type="open", user_id=8,
           input_tokens=40)
    record(alpha, "u7-delphi", at(DAY, 9), provider="openai", model="gpt-4o", panel_type="delphi", user_id=7,
           input_tokens=80)
    record(alpha, "azure", at(DAY, 9), provider="azure", model="gpt-4o", panel_type="open", user_id=7,
           input_tokens=160)
    record(alpha, "nobody-1", at(DAY, 11), kind="embeddings", quantity=3)
    record(alpha, "nobody-2", at(DAY, 12), kind="embeddings", quantity=4)

    rollup_day(DAY)
    rollup_day(DAY)  # again: the events without a user stay one row

    rows = rollup_rows(DAY, alpha)
    assert rows == ledger_sums(DAY)
    assert rows[(alpha.pk, "llm_call", "openai", "gpt-4o", "open", 7)][:2] == (2, 30)
    assert rows[(alpha.pk, "llm_call", "openai", "gpt-4o", "open", 8)][:2] == (1, 40)
    assert rows[(alpha.pk, "llm_call", "openai", "gpt-4o", "delphi", 7)][:2] == (1, 80)
    assert rows[(alpha.pk, "llm_call", "azure", "gpt-4o", "open", 7)][:2] == (1, 160)
    assert rows[(alpha.pk, "embeddings", "", "", "", None)] == (2, 0, 0, Decimal(0), 7)


def test_a_group_without_a_user_is_one_row(alpha):
    from django.db import IntegrityError, transaction

    DailyRollup.objects.create(tenant=alpha, day=DAY, kind="embeddings", user_id=None, events=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        DailyRollup.objects.create(tenant=alpha, day=DAY, kind="embeddings", user_id=None, events=1)


def test_a_day_without_usage_has_no_rows(ledger):
    empty_day = date(2001, 1, 1)
    DailyRollup.objects.create(tenant=ledger[0], day=empty_day, kind="llm_call", model="stale", events=1)

    assert rollup_day(empty_day) == 0
    assert not DailyRollup.objects.filter(day=empty_day).exists()


def test_the_periodic_task_rolls_up_today_and_yesterday(alpha):
    from django.utils import timezone

    from tenants.billing.tasks import usage_rollup

    now = timezone.now()
    record(alpha, "today", now, provider="openai", model="gpt-4o-mini", input_tokens=11)
    record(alpha, "yesterday", now - timedelta(days=1), provider="openai", model="gpt-4o-mini", input_tokens=13)

    written = usage_rollup()

    today = now.astimezone(UTC).date()
    assert written == len(rollup_rows(today)) + len(rollup_rows(today - timedelta(days=1)))
    assert rollup_rows(today) == ledger_sums(today)
    assert rollup_rows(today - timedelta(days=1)) == ledger_sums(today - timedelta(days=1))
