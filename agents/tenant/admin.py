from django.contrib import admin

from agents.tenant.models import AgentPreferences, AgentUsage, LLMCall
from config.admin_sites import tenant_site


@admin.register(AgentPreferences, site=tenant_site)
class AgentPreferencesAdmin(admin.ModelAdmin):
    list_display = ("__str__", "updated_at")


@admin.register(AgentUsage, site=tenant_site)
class AgentUsageAdmin(admin.ModelAdmin):
    list_display = ("agent", "use_count", "avg_rating", "rating_count", "last_used_at")
    readonly_fields = ("agent", "use_count", "avg_rating", "rating_count", "last_used_at")


@admin.register(LLMCall, site=tenant_site)
class LLMCallAdmin(admin.ModelAdmin):
    list_display = ("created_at", "purpose", "provider", "model", "outcome", "input_tokens", "output_tokens",
                    "cost", "latency_ms")
    list_filter = ("provider", "outcome")
    search_fields = ("purpose", "prompt_hash")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
