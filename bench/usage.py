"""Usage metering and billing.

    python bench/usage.py [--events 1000000] [--tenants 100] [--panels 7] [--requests 200]

1. Ledger write rate: events/s through `usage_record_many` in batches, and one at a time
   through `usage_record` (each its own transaction, as a lone fact is written).
2. Metering overhead on a panel: wall time (create + run) of a 5-expert open panel at 200 ms
   fake LLM latency with metering on and off (off: the two ledger writers replaced by
   no-ops, in this process only), alternating; goal <= 2 %. Also the share of each panel's
   wall time spent inside the ledger writers, which a busy machine blurs less than the
   difference of two medians.
3. `--events` ledger rows across `--tenants` tenants this month (one real tenant with a
   schema, the rest bare Tenant rows: a ledger row only needs its tenant), inserted with
   one INSERT ... SELECT generate_series; then `rollup_day` over every day they cover (goal
   <= 60 s in all), then GET /api/v1/usage/ p95 for the real tenant (goal <= 50 ms).
   Everything inserted is deleted at the end.
Prints figures; asserts nothing. Uses its own data directory (.data/bench).
"""

import argparse
import time
import uuid
from datetime import UTC, timedelta
from decimal import Decimal

import _django

QUESTION = "Should we file a De Novo or a 510(k) for our AI-based ECG arrhythmia detection software?"
BARE_TENANT_PREFIX = "bench_usage_bare_"
UNLIMITED = {"max_concurrent_panels": 1000, "max_panels_per_month": 1_000_000,
             "monthly_token_budget": 100_000_000_000, "monthly_cost_budget_usd": 10_000_000}


def ledger_write_rate(tenant, *, batched: int, batch_size: int, single: int) -> None:
    from django.utils import timezone

    from tenants.billing.models import UsageEvent
    from tenants.billing.services import usage_record, usage_record_many

    run = uuid.uuid4().hex[:8]
    now = timezone.now()

    def event(index: int) -> UsageEvent:
        return UsageEvent(tenant=tenant, kind="llm_call", key=f"bench-usage:{run}:many:{index}", occurred_at=now,
                          provider="openai", model="gpt-4o-mini", input_tokens=500, output_tokens=120,
                          cost=Decimal("0.00014700"))

    started = time.perf_counter()
    for first in range(0, batched, batch_size):
        usage_record_many([event(index) for index in range(first, min(batched, first + batch_size))])
    many_rate = batched / (time.perf_counter() - started)

    started = time.perf_counter()
    for index in range(single):
        usage_record(tenant=tenant, kind="llm_call", key=f"bench-usage:{run}:one:{index}", occurred_at=now,
                     provider="openai", model="gpt-4o-mini", input_tokens=500, output_tokens=120,
                     cost=Decimal("0.00014700"))
    single_rate = single / (time.perf_counter() - started)

    again = time.perf_counter()
    usage_record_many([event(index) for index in range(batch_size)])  # all counted before: skipped
    replay_ms = (time.perf_counter() - again) * 1000
    UsageEvent.objects.filter(key__startswith=f"bench-usage:{run}:").delete()
    print(f"ledger writes, usage_record_many in batches of {batch_size}: {many_rate:,.0f} events/s ({batched} events)")
    print(f"ledger writes, usage_record one at a time:          {single_rate:,.0f} events/s ({single} events)")
    print(f"a batch of {batch_size} already-counted events (skipped): {replay_ms:.1f} ms")


def metering_overhead(user, *, repeat: int, latency: float) -> None:
    from django.conf import settings
    from django_tenants.utils import schema_context

    import llm.services
    import tenants.billing.services
    from panels.models import Panel
    from panels.orchestration.runner import panel_run
    from panels.services import panel_create
    from tests.fakes.llm_server import FakeLLMServer

    writers = {"many": llm.services.usage_record_many, "one": tenants.billing.services.usage_record}
    in_writers = [0.0]  # seconds spent inside the ledger writers during the current panel

    def timed(writer):
        def wrapper(*args, **kwargs):
            started = time.perf_counter()
            try:
                return writer(*args, **kwargs)
            finally:
                in_writers[0] += time.perf_counter() - started
        return wrapper

    def metering(on: bool) -> None:
        llm.services.usage_record_many = timed(writers["many"]) if on else (lambda events: len(events))
        tenants.billing.services.usage_record = timed(writers["one"]) if on else (lambda **fields: True)

    walls, shares = {True: [], False: []}, []
    with FakeLLMServer(latency_s=latency) as fake, schema_context("bench_usage"):
        settings.LLM_PROVIDER, settings.LLM_MODEL = "openai", "gpt-4o-mini"
        settings.LLM_BASE_URL, settings.LLM_API_KEY = fake.openai_base_url, "bench"
        try:
            for run in range(repeat + 1):  # the first pair warms up and is not counted
                for on in (True, False) if run % 2 else (False, True):
                    metering(on)
                    in_writers[0] = 0.0
                    started = time.perf_counter()
                    panel = panel_create(user=user, query=QUESTION, panel_type="open", enqueue=False)
                    panel = panel_run(panel_id=panel.pk)
                    wall = time.perf_counter() - started
                    if run:
                        walls[on].append(wall)
                        if on:
                            shares.append(in_writers[0] / wall)
                    if panel.status != "COMPLETED":
                        print(f"  a panel ended {panel.status}: {panel.error}")
        finally:
            metering(True)
            Panel.objects.all().delete()
    on, off = _django.median(walls[True]), _django.median(walls[False])
    print(f"5-expert open panel at {latency * 1000:.0f} ms fake latency, median of {repeat}: "
          f"metering on {on:.3f} s, off {off:.3f} s; on / off = {on / off:.4f} ({(on / off - 1) * 100:+.2f} %)")
    print(f"  time inside the ledger writers (metering on): median {_django.median(shares) * 100:.2f} % of a "
          f"panel's wall time, max {max(shares) * 100:.2f} %")
    print(f"  (spread: on {min(walls[True]):.3f}-{max(walls[True]):.3f} s, off {min(walls[False]):.3f}-"
          f"{max(walls[False]):.3f} s)")


def bare_tenants(count: int) -> list[int]:
    """Tenant rows without schemas (never routed to, never migrated): the ledger only needs
    a tenant to point at."""
    from tenants.models import Tenant

    rows = [Tenant(schema_name=f"{BARE_TENANT_PREFIX}{index:03d}", name=f"Bench usage {index}")
            for index in range(count)]
    Tenant.objects.bulk_create(rows)
    return list(Tenant.objects.filter(schema_name__startswith=BARE_TENANT_PREFIX).values_list("pk", flat=True))


def bulk_ledger(tenant_ids: list[int], *, events: int, start, days: int) -> float:
    """`events` llm calls, panels, storage and embeddings over `days` days from `start`, in
    panels of 20 events: each tenant gets panels on every day, by 7 users, of 3 panel types,
    on 3 models (a panel's events share its tenant, day, user, type and model)."""
    from django.db import connection

    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO billing_usageevent (tenant_id, kind, key, occurred_at, user_id, panel_id, panel_type,
                                            provider, model, input_tokens, output_tokens, cost, billed_directly,
                                            quantity, data)
            SELECT (%(tenants)s::bigint[])[1 + panel %% cardinality(%(tenants)s::bigint[])],
                   (ARRAY['llm_call', 'llm_call', 'llm_call', 'llm_call', 'llm_call', 'llm_call', 'llm_call',
                          'panel_started', 'embeddings', 'storage_added'])[1 + i %% 10],
                   'bench-usage:bulk:' || i,
                   %(start)s::timestamptz + (nth %% %(days)s) * interval '1 day' + (i %% 86399) * interval '1 second',
                   1 + nth %% 7, panel, (ARRAY['open', 'delphi', 'debate'])[1 + nth / 7 %% 3], 'openai',
                   CASE WHEN i %% 10 < 7 THEN (ARRAY['gpt-4o-mini', 'gpt-4o', 'claude-haiku'])[1 + nth / 3 %% 3]
                        ELSE '' END,
                   CASE WHEN i %% 10 < 7 THEN 400 + i %% 300 ELSE 0 END,
                   CASE WHEN i %% 10 < 7 THEN 100 + i %% 50 ELSE 0 END,
                   CASE WHEN i %% 10 < 7 THEN 0.00012 ELSE 0 END,
                   false,
                   CASE WHEN i %% 10 < 7 THEN 0 ELSE 1 + i %% 5000 END,
                   '{}'::jsonb
            FROM generate_series(1, %(events)s) AS i,
                 LATERAL (SELECT i / 20 AS panel) AS p,
                 LATERAL (SELECT panel / cardinality(%(tenants)s::bigint[]) AS nth) AS n  -- the tenant's nth panel
            """,
            {"tenants": tenant_ids, "start": start, "days": days, "events": events},
        )
        cursor.execute("ANALYZE billing_usageevent")
    return time.perf_counter() - started


def usage_reads(tenant, token: str, requests: int) -> None:
    from django.test import Client

    from tenants.billing.selectors import budget_status, month_window, usage_totals

    client = Client(HTTP_HOST="bench-usage.localhost", HTTP_AUTHORIZATION=f"Token {token}")
    status = client.get("/api/v1/usage/").status_code
    if status == 200:
        times, codes = [], set()
        for _ in range(requests):
            started = time.perf_counter()
            codes.add(client.get("/api/v1/usage/").status_code)
            times.append((time.perf_counter() - started) * 1000)
        print(f"GET /api/v1/usage/ (tenant admin, {requests} requests, status {sorted(codes)}): "
              f"median {_django.median(times):.1f} ms, p95 {_django.percentile(times, 0.95):.1f} ms")
        return
    print(f"GET /api/v1/usage/ answered {status}: timing usage_totals + budget_status instead")
    start, end = month_window()
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        usage_totals(tenant=tenant, start=start, end=end)
        budget_status(tenant=tenant)
        times.append((time.perf_counter() - started) * 1000)
    print(f"usage_totals + budget_status ({requests} times): median {_django.median(times):.1f} ms, "
          f"p95 {_django.percentile(times, 0.95):.1f} ms")


def rollups_at_scale(tenant, token: str, *, events: int, tenants: int, requests: int) -> None:
    from django.db import connection
    from django.utils import timezone

    from tenants.billing.models import DailyRollup, UsageEvent
    from tenants.billing.rollups import rollup_day
    from tenants.billing.selectors import month_window
    from tenants.models import Tenant

    start, _ = month_window()
    today = timezone.now().astimezone(UTC).date()
    days = [start.date() + timedelta(days=offset) for offset in range((today - start.date()).days + 1)]
    cleanup(tenant)
    try:
        tenant_ids = [tenant.pk, *bare_tenants(tenants - 1)]
        seconds = bulk_ledger(tenant_ids, events=events, start=start, days=len(days))
        print(f"inserted {events:,} ledger events across {len(tenant_ids)} tenants and {len(days)} days "
              f"(INSERT ... SELECT generate_series): {seconds:.1f} s")

        per_day, rows = [], 0
        started = time.perf_counter()
        for day in days:
            day_started = time.perf_counter()
            rows += rollup_day(day)
            per_day.append(time.perf_counter() - day_started)
        total = time.perf_counter() - started
        print(f"rollup_day over the {len(days)} days: {total:.1f} s in all ({events / total:,.0f} events/s), "
              f"{rows:,} rollup rows; slowest day {max(per_day):.2f} s, median day {_django.median(per_day):.2f} s")
        started = time.perf_counter()
        again = sum(rollup_day(day) for day in days)
        print(f"rolled up again (nothing new): {time.perf_counter() - started:.1f} s, {again:,} rows")
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN SELECT 1 FROM billing_usageevent WHERE occurred_at >= %s AND occurred_at < %s",
                           [start, start + timedelta(days=1)])
            print("  day filter plan: " + " / ".join(row[0].strip() for row in cursor.fetchall()[:3]))

        usage_reads(tenant, token, requests)
    finally:
        UsageEvent.objects.filter(key__startswith="bench-usage:bulk:").delete()
        DailyRollup.objects.filter(tenant__schema_name__startswith=BARE_TENANT_PREFIX).delete()
        DailyRollup.objects.filter(tenant=tenant).delete()
        Tenant.objects.filter(schema_name__startswith=BARE_TENANT_PREFIX).delete()


def cleanup(tenant) -> None:
    """What an interrupted earlier run may have left."""
    from tenants.billing.models import DailyRollup, UsageEvent
    from tenants.models import Tenant

    UsageEvent.objects.filter(key__startswith="bench-usage:").delete()
    DailyRollup.objects.filter(tenant=tenant).delete()
    Tenant.objects.filter(schema_name__startswith=BARE_TENANT_PREFIX).delete()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--tenants", type=int, default=100)
    parser.add_argument("--panels", type=int, default=7, help="panels per mode for the overhead median")
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    _django.setup()

    from django.core.management import call_command

    from agents.services import agents_load
    from tenants.services import tenant_update_configuration

    agents_load()
    tenant, user, token = _django.bench_tenant("bench_usage", tier="enterprise", is_admin=True)
    # A tenant made by an earlier run may miss tenant migrations added since.
    call_command("migrate_schemas", "--schema", tenant.schema_name, verbosity=0)
    tenant_update_configuration(tenant=tenant, limits=UNLIMITED)

    ledger_write_rate(tenant, batched=20_000, batch_size=500, single=2_000)
    if args.panels > 0:
        metering_overhead(user, repeat=args.panels, latency=args.latency)
    if args.events > 0:
        rollups_at_scale(tenant, token, events=args.events, tenants=args.tenants, requests=args.requests)


if __name__ == "__main__":
    main()
