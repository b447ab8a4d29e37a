"""The audit trail page (Settings, tenant admins). Thin: the events come from
tenants.audit.selectors, as in the API."""

from __future__ import annotations

from django import forms
from django.core.paginator import Paginator
from django.shortcuts import render
from django.views.decorators.http import require_GET

from tenants.audit.models import AuditEvent
from tenants.audit.selectors import audit_event_list
from tenants.views import tenant_admin_required

EVENTS_PER_PAGE = 50


class AuditFilterForm(forms.Form):
    action = forms.ChoiceField(choices=[("", "All actions"), *AuditEvent.Action.choices], required=False)


@tenant_admin_required
@require_GET
def audit_page(request):
    filters = AuditFilterForm(request.GET or None)
    action = filters.cleaned_data["action"] if filters.is_valid() else None
    events = audit_event_list(tenant=request.tenant, action=action) if not filters.errors else AuditEvent.objects.none()
    page = Paginator(events, EVENTS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "audit/settings_audit.html", {
        "filters": filters, "page": page, "query_string": f"action={action}" if action else "",
    }, status=400 if filters.errors else 200)
