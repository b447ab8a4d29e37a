from django.contrib import admin

from config.admin_sites import tenant_site
from llm.models import LLMCall


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
