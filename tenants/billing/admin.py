from django.contrib import admin
from django_celery_beat import admin as beat_admin
from django_celery_beat import models as beat_models

from config.admin_sites import platform_site
from tenants.billing.models import DailyRollup, PlanChange, Price, Statement, UsageEvent


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
    list_display = ("month", "tenant", "tier", "closed_at")
    list_filter = ("tenant",)
    list_select_related = ("tenant",)


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
