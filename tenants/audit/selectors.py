"""Reads of the audit trail (a public schema table, filtered by the tenant routing chose)."""

from __future__ import annotations

from django.db.models import QuerySet

from tenants.audit.models import AuditEvent


def audit_event_list(*, tenant, action: str | None = None) -> QuerySet[AuditEvent]:
    """The tenant's events, newest first; only one action's when given."""
    events = AuditEvent.objects.filter(tenant=tenant)
    if action:
        events = events.filter(action=action)
    return events.order_by("-occurred_at", "-id")
