from django.contrib import admin

from agents.tenant.models import AgentPreferences, AgentUsage
from config.admin_sites import tenant_site


@admin.register(AgentPreferences, site=tenant_site)
class AgentPreferencesAdmin(admin.ModelAdmin):
    list_display = ("__str__", "updated_at")


@admin.register(AgentUsage, site=tenant_site)
class AgentUsageAdmin(admin.ModelAdmin):
    list_display = ("agent", "use_count", "avg_rating", "rating_count", "last_used_at")
    readonly_fields = ("agent", "use_count", "avg_rating", "rating_count", "last_used_at")
