from django.contrib import admin, messages

from agents.models import Agent
from agents.services import agent_set_active
from config.admin_sites import platform_site


@admin.register(Agent, site=platform_site)
class AgentAdmin(admin.ModelAdmin):
    list_display = ("name", "title", "domain", "tier", "disposition", "cost_per_query", "is_active")
    list_filter = ("domain", "tier", "disposition", "is_active")
    search_fields = ("slug", "name", "title", "business_function")
    readonly_fields = ("slug", "profile_hash", "created_at", "updated_at", "retired_at")
    exclude = ("embedding", "search_vector")
    actions = ["deactivate", "activate"]

    @admin.action(description="Deactivate selected agents (kept for past panels)")
    def deactivate(self, request, queryset):
        for agent in queryset:
            agent_set_active(agent=agent, active=False)
        messages.success(request, f"Deactivated {queryset.count()} agent(s).")

    @admin.action(description="Activate selected agents")
    def activate(self, request, queryset):
        for agent in queryset:
            agent_set_active(agent=agent, active=True)
        messages.success(request, f"Activated {queryset.count()} agent(s).")
