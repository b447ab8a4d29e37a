from django.contrib import admin

from config.admin_sites import tenant_site
from panels.models import Contribution, Panel, PanelMember


class MemberInline(admin.TabularInline):
    model = PanelMember
    extra = 0
    fields = ("seat", "agent", "role", "human_name")
    readonly_fields = fields
    can_delete = False


class ContributionInline(admin.StackedInline):
    model = Contribution
    extra = 0
    fields = ("round", "member", "kind", "stance", "confidence", "estimate", "position", "text", "citations",
              "input_tokens", "output_tokens", "cost")
    readonly_fields = fields
    can_delete = False


@admin.register(Panel, site=tenant_site)
class PanelAdmin(admin.ModelAdmin):
    list_display = ("id", "query", "panel_type", "status", "owner", "tokens_used", "cost", "consensus_score", "created_at")
    list_filter = ("panel_type", "status")
    search_fields = ("query",)
    readonly_fields = ("query", "panel_type", "status", "owner", "settings", "current_round", "error", "tokens_used",
                       "cost", "dropped_citations", "consensus_summary", "recommendation_summary", "created_at",
                       "started_at", "finished_at")
    exclude = ("version", "tenant_schema", "input_deadline")
    inlines = [MemberInline, ContributionInline]

    def has_add_permission(self, request):
        return False  # panels are asked through the API, the web app or `manage.py ask`

    @admin.display(description="Consensus")
    def consensus_score(self, panel):
        consensus = getattr(panel, "consensus", None) if hasattr(panel, "consensus") else None
        return f"{consensus.score:.2f} ({consensus.level})" if consensus else "—"

    @admin.display(description="Consensus")
    def consensus_summary(self, panel):
        try:
            consensus = panel.consensus
        except Exception:
            return "—"
        dissent = ", ".join(d["name"] for d in consensus.dissent) or "none"
        return f"{consensus.score:.2f} ({consensus.level}), majority {consensus.majority_stance}; dissent: {dissent}"

    @admin.display(description="Recommendation")
    def recommendation_summary(self, panel):
        try:
            return f"{panel.recommendation.action}: {panel.recommendation.summary[:500]}"
        except Exception:
            return "—"
