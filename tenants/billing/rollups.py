"""Daily rollups: the usage ledger summed per tenant x day x kind x provider x model x panel
type x user (everything the usage report groups by).

A day is a UTC calendar day (settings.TIME_ZONE is "UTC"). Rolling up a day replaces that
day's rows with sums computed from the ledger, so running it again, or after a late event
arrived, gives exactly what the ledger holds.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from django.db import connection, transaction

from tenants.billing.models import DailyRollup, UsageEvent

ROLLUPS = DailyRollup._meta.db_table
EVENTS = UsageEvent._meta.db_table


def day_window(day: date) -> tuple[datetime, datetime]:
    """[day 00:00 UTC, next day 00:00 UTC)."""
    start = datetime.combine(day, time.min, tzinfo=UTC)
    return start, start + timedelta(days=1)


def rollup_day(day: date, *, tenant=None) -> int:
    """Recompute the rollup rows of `day` for every tenant (or one) from the ledger, in one
    transaction: delete the day's rows, insert the ledger's sums. How many rows were written."""
    start, end = day_window(day)
    params = {"day": day, "start": start, "end": end, "tenant_id": tenant.pk if tenant is not None else None}
    only_tenant = "AND tenant_id = %(tenant_id)s" if tenant is not None else ""
    with transaction.atomic(), connection.cursor() as cursor:
        # Two rollups of the same day at once would both delete, then both insert and the
        # second would break the unique constraint: one writer at a time (reads go on).
        cursor.execute(f"LOCK TABLE {ROLLUPS} IN EXCLUSIVE MODE")
        cursor.execute(f"DELETE FROM {ROLLUPS} WHERE day = %(day)s {only_tenant}", params)
        cursor.execute(
            f"""
            INSERT INTO {ROLLUPS} (tenant_id, day, kind, provider, model, panel_type, user_id,
                                   events, input_tokens, output_tokens, cost, quantity)
            SELECT tenant_id, %(day)s, kind, provider, model, panel_type, user_id,
                   count(*), sum(input_tokens), sum(output_tokens), sum(cost), sum(quantity)
            FROM {EVENTS}
            WHERE occurred_at >= %(start)s AND occurred_at < %(end)s {only_tenant}
            GROUP BY tenant_id, kind, provider, model, panel_type, user_id
            """,
            params,
        )
        return cursor.rowcount


def rollup_days(days: list[date], *, tenant=None) -> int:
    """Roll up several days (each in its own transaction); rows written in all."""
    return sum(rollup_day(day, tenant=tenant) for day in days)
