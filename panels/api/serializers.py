"""Output shapes of the panels API (statuses in lower case)."""

from rest_framework import serializers

from panels.models import Contribution, Panel, PanelMember


class MemberSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="display_name")
    agent = serializers.SerializerMethodField()

    class Meta:
        model = PanelMember
        fields = ["id", "name", "role", "seat", "agent"]

    def get_agent(self, member):
        if not member.agent_id:
            return None
        agent = member.agent
        return {"slug": agent.slug, "title": agent.title, "domain": agent.domain}


class ContributionSerializer(serializers.ModelSerializer):
    member = serializers.CharField(source="member.display_name")
    member_id = serializers.IntegerField()
    usage = serializers.SerializerMethodField()

    class Meta:
        model = Contribution
        fields = ["id", "member", "member_id", "kind", "text", "position", "stance", "confidence", "estimate",
                  "action", "key_points", "citations", "dropped_citations", "usage", "created_at"]

    def get_usage(self, contribution):
        return {"input_tokens": contribution.input_tokens, "output_tokens": contribution.output_tokens,
                "cost": float(contribution.cost), "latency_ms": contribution.latency_ms}


def _related(panel, name):
    try:
        return getattr(panel, name)
    except Exception:  # not there yet
        return None


class PanelSummarySerializer(serializers.ModelSerializer):
    status = serializers.SerializerMethodField()
    owner = serializers.CharField(source="owner.username")

    class Meta:
        model = Panel
        fields = ["id", "query", "panel_type", "status", "owner", "current_round", "created_at", "finished_at"]

    def get_status(self, panel):
        return panel.status.lower()


class PanelDetailSerializer(PanelSummarySerializer):
    members = MemberSerializer(many=True)
    rounds = serializers.SerializerMethodField()
    consensus = serializers.SerializerMethodField()
    recommendation = serializers.SerializerMethodField()
    usage = serializers.SerializerMethodField()
    settings = serializers.JSONField()

    class Meta(PanelSummarySerializer.Meta):
        fields = PanelSummarySerializer.Meta.fields + [
            "settings", "error", "input_deadline", "members", "rounds", "consensus", "recommendation", "usage"]

    def get_rounds(self, panel):
        return [{"number": r.number, "title": r.title, "state": r.state, "summary": r.summary,
                 "contributions": ContributionSerializer(r.contributions.all(), many=True).data}
                for r in panel.rounds.all()]

    def get_consensus(self, panel):
        consensus = _related(panel, "consensus")
        if consensus is None:
            return None
        return {key: getattr(consensus, key) for key in
                ("score", "level", "threshold", "reached", "majority_stance", "agreement_points", "dissent", "matrix")}

    def get_recommendation(self, panel):
        recommendation = _related(panel, "recommendation")
        if recommendation is None:
            return None
        return {key: getattr(recommendation, key) for key in ("summary", "action", "rationale", "dissent", "citations")}

    def get_usage(self, panel):
        return {"tokens": panel.tokens_used, "cost": float(panel.cost), "dropped_citations": panel.dropped_citations}
