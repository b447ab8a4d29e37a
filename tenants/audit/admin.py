from django.contrib import admin

from config.admin_sites import platform_site
from tenants.audit.models import AuditEvent


@admin.register(AuditEvent, site=platform_site)
class AuditEventAdmin(admin.ModelAdmin):
    """Every tenant's trail, for platform admins: read, never added to, edited or deleted."""

    list_display = ("occurred_at", "tenant", "action", "actor_label", "actor_kind", "target_kind", "target_label")
    list_filter = ("action", "actor_kind", "tenant")
    search_fields = ("actor_username", "target_label", "tenant__schema_name")
    date_hierarchy = "occurred_at"
    list_select_related = ("tenant",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
