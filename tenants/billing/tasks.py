"""Billing's periodic tasks, run by Celery beat in the public schema (the schedule is in the
database: `manage.py load_schedule` writes it, the platform admin shows it)."""

from __future__ import annotations

from datetime import UTC, timedelta

from celery import shared_task
from django.utils import timezone


@shared_task(name="billing.usage_rollup")
def usage_rollup() -> int:
    """Roll up today and yesterday (UTC): yesterday again so its last minutes are counted."""
    from tenants.billing.rollups import rollup_days

    today = timezone.now().astimezone(UTC).date()
    return rollup_days([today - timedelta(days=1), today])


@shared_task(name="billing.statements_close_previous_month")
def statements_close_previous_month() -> int:
    """Close last month's statements for every tenant (closing again rebuilds the same ones)."""
    from tenants.billing.statements import statements_close

    first_of_this_month = timezone.now().astimezone(UTC).date().replace(day=1)
    return statements_close((first_of_this_month - timedelta(days=1)).replace(day=1))


@shared_task(name="billing.budget_alerts_check")
def budget_alerts_check() -> int:
    """Email tenant admins about budgets past their soft or hard limit (once per threshold)."""
    from tenants.billing.alerts import budget_alerts_send

    return budget_alerts_send()
