from django.contrib import admin
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path
from django_celery_beat import admin as beat_admin
from django_celery_beat import models as beat_models

from config.admin_sites import platform_site
from config.errors import DomainError, NotFound
from tenants.billing.models import DailyRollup, PlanChange, Price, Statement, UsageEvent
from tenants.billing.statements import (
    month_of, month_parse, statement_csv, statement_get, statement_pdf, statements_csv_all, tenants_usage,
)
from tenants.models import Tenant


@admin.register(Price, site=platform_site)
class PriceAdmin(admin.ModelAdmin):
    list_display = ("provider", "model", "input_per_million", "output_per_million", "updated_at")
    list_filter = ("provider",)
    search_fields = ("model",)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Ledger-derived records: shown, never edited by hand."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(UsageEvent, site=platform_site)
class UsageEventAdmin(ReadOnlyAdmin):
    list_display = ("occurred_at", "tenant", "kind", "model", "input_tokens", "output_tokens", "cost", "panel_id")
    list_filter = ("kind", "billed_directly", "tenant")
    search_fields = ("key", "model")
    date_hierarchy = "occurred_at"
    list_select_related = ("tenant",)


@admin.register(DailyRollup, site=platform_site)
class DailyRollupAdmin(ReadOnlyAdmin):
    list_display = ("day", "tenant", "kind", "model", "events", "input_tokens", "output_tokens", "cost", "quantity")
    list_filter = ("kind", "tenant")
    date_hierarchy = "day"
    list_select_related = ("tenant",)


@admin.register(Statement, site=platform_site)
class StatementAdmin(ReadOnlyAdmin):
    """Closed statements, and "Usage across tenants": every tenant's month (costliest first,
    those near or over a budget), each tenant's statement as CSV or PDF, and one CSV of all."""

    list_display = ("month", "tenant", "tier", "closed_at")
    list_filter = ("tenant",)
    list_select_related = ("tenant",)
    change_list_template = "admin/billing/statement/change_list.html"

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("across-tenants/", view(self.usage_across_tenants), name="billing_usage_across_tenants"),
            path("across-tenants/<str:month>.csv", view(self.usage_across_tenants_csv),
                 name="billing_usage_across_tenants_csv"),
            path("tenant/<str:schema_name>/<str:month>.csv", view(self.tenant_statement_csv),
                 name="billing_tenant_statement_csv"),
            path("tenant/<str:schema_name>/<str:month>.pdf", view(self.tenant_statement_pdf),
                 name="billing_tenant_statement_pdf"),
        ] + super().get_urls()

    @staticmethod
    def _month(text: str | None):
        try:
            return month_parse(text) if text else month_of()
        except DomainError as error:
            raise Http404(error.message) from None

    def usage_across_tenants(self, request):
        month = self._month(request.GET.get("month"))
        rows = tenants_usage(month=month)
        context = {
            **self.admin_site.each_context(request), "opts": self.model._meta, "title": "Usage across tenants",
            "month": f"{month:%Y-%m}", "current_month": f"{month_of():%Y-%m}",
            "top": [row for row in rows if row["cost"] or row["tokens"]][:10],
            "near": [row for row in rows if row["level"] != "ok"],
        }
        return TemplateResponse(request, "admin/billing/usage_across_tenants.html", context)

    def usage_across_tenants_csv(self, request, month):
        month = self._month(month)
        response = HttpResponse(statements_csv_all(month=month), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="usage-all-tenants-{month:%Y-%m}.csv"'
        return response

    def _statement(self, schema_name: str, month: str) -> tuple[Tenant, dict]:
        tenant = get_object_or_404(Tenant.objects.exclude(schema_name="public"), schema_name=schema_name)
        try:
            return tenant, statement_get(tenant=tenant, month=self._month(month))
        except NotFound as error:
            raise Http404(error.message) from None

    def tenant_statement_csv(self, request, schema_name, month):
        tenant, data = self._statement(schema_name, month)
        response = HttpResponse(statement_csv(data), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="statement-{tenant.schema_name}-{data["month"]}.csv"'
        return response

    def tenant_statement_pdf(self, request, schema_name, month):
        tenant, data = self._statement(schema_name, month)
        response = HttpResponse(statement_pdf(data, tenant_name=tenant.name), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="statement-{tenant.schema_name}-{data["month"]}.pdf"'
        return response


@admin.register(PlanChange, site=platform_site)
class PlanChangeAdmin(ReadOnlyAdmin):
    list_display = ("changed_at", "tenant", "changed_by", "before", "after")
    list_filter = ("tenant",)
    list_select_related = ("tenant", "changed_by")


# Celery beat's schedule (billing's periodic tasks, written by `manage.py load_schedule`):
# django_celery_beat registers its admin on Django's default site, which this project does
# not serve; the platform admin shows it instead.
for _model, _model_admin in (
    (beat_models.PeriodicTask, beat_admin.PeriodicTaskAdmin),
    (beat_models.IntervalSchedule, beat_admin.IntervalScheduleAdmin),
    (beat_models.CrontabSchedule, beat_admin.CrontabScheduleAdmin),
    (beat_models.SolarSchedule, beat_admin.SolarScheduleAdmin),
    (beat_models.ClockedSchedule, beat_admin.ClockedScheduleAdmin),
):
    platform_site.register(_model, _model_admin)
