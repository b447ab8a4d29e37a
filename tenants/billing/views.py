"""The Usage page: the month's charts (SVG, drawn on the server), budgets and statements.
Tenant admins see the tenant; a member sees their own usage and no statements. Thin: the
figures come from tenants/billing/statements.py, as in the API."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from config.charts import Palette, daily_chart, ranked_chart
from config.errors import DomainError, NotFound
from tenants.billing.statements import (
    month_of,
    month_parse,
    statement_csv,
    statement_get,
    statement_pdf,
    statements_list,
    usage_month,
)
from tenants.roles import is_tenant_admin


def usage_page_view(view):
    """Signed-in users on a tenant's host only (the platform host has no such page)."""

    @login_required
    @wraps(view)
    def page(request, *args, **kwargs):
        tenant = getattr(request, "tenant", None)
        if tenant is None or tenant.is_public:
            raise Http404("There is no such page here.")
        try:
            return view(request, *args, **kwargs)
        except NotFound as error:
            raise Http404(error.message) from None
        except DomainError as error:  # a malformed month in the address
            raise Http404(error.message) from None

    return page


def usage_charts(report: dict, *, palette: Palette) -> dict[str, str]:
    """The page's charts, by name, from a usage report."""
    days, series = report["days"], report["series"]
    charts = {
        "tokens_by_model": daily_chart(days=days, series=series["tokens_by_model"], measure="tokens",
                                       name="tokens-by-model"),
        "cost_by_model": daily_chart(days=days, series=series["cost_by_model"], measure="cost", unit="$",
                                     name="cost-by-model"),
        "tokens_by_panel_type": daily_chart(days=days, series=series["tokens_by_panel_type"], measure="tokens",
                                            name="tokens-by-panel-type"),
        "models": ranked_chart(rows=[(f"{row['model']}", row["tokens"]) for row in report["by_model"]],
                               measure="tokens by model", name="models", palette=palette),
        "panel_types": ranked_chart(rows=[(row["panel_type"] or "(not a panel)", row["tokens"])
                                          for row in report["by_panel_type"]],
                                    measure="tokens by panel type", name="panel-types", palette=palette),
    }
    if "top_users" in report:
        charts["users"] = ranked_chart(rows=[(row["username"], row["tokens"]) for row in report["top_users"]],
                                       measure="tokens by user", name="users", palette=palette)
    return charts


@usage_page_view
@require_GET
def usage_page(request):
    month = month_parse(request.GET["month"]) if request.GET.get("month") else month_of()
    admin = is_tenant_admin(request.user)
    report = usage_month(tenant=request.tenant, month=month, user_id=None if admin else request.user.pk,
                         with_users=admin)
    branding = request.tenant.configuration.branding
    return render(request, "billing/usage.html", {
        "report": report, "month": month, "admin": admin,
        "charts": usage_charts(report, palette=Palette(primary=branding.primary_color, accent=branding.accent_color)),
        "budgets": [report["budget"]["tokens"], report["budget"]["cost"]],
        "statements": statements_list(tenant=request.tenant) if admin else [],
        "current_month": f"{month_of():%Y-%m}",
    })


def _statement(request, month: str) -> dict:
    if not is_tenant_admin(request.user):
        raise PermissionDenied("Statements are for this workspace's admins.")
    return statement_get(tenant=request.tenant, month=month_parse(month))


@usage_page_view
@require_GET
def statement_download_csv(request, month: str):
    data = _statement(request, month)
    response = HttpResponse(statement_csv(data), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="statement-{data["tenant"]}-{data["month"]}.csv"'
    return response


@usage_page_view
@require_GET
def statement_download_pdf(request, month: str):
    data = _statement(request, month)
    response = HttpResponse(statement_pdf(data, tenant_name=request.tenant.name), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="statement-{data["tenant"]}-{data["month"]}.pdf"'
    return response
