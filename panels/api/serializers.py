"""Output shapes of the panels API (statuses in lower case). Each is a component of the
OpenAPI schema under its name without "Serializer" (Panel, Member, Round, ...)."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from agents.api.serializers import AgentSerializer
from panels.lifecycle import Status
from panels.models import Contribution, Panel, PanelMember, Round
from panels.types import REGISTRY

PANEL_STATUSES = [status.lower() for status in Status.values]


class MemberAgentSerializer(serializers.Serializer):
    slug = serializers.SlugField()
    title = serializers.CharField()
    domain = serializers.CharField()


class MemberSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="display_name")
    agent = MemberAgentSerializer(allow_null=True, help_text="The catalog agent; null for a human expert.")

    class Meta:
        model = PanelMember
        fields = ["id", "name", "role", "seat", "agent"]
        read_only_fields = fields


class ContributionUsageSerializer(serializers.Serializer):
    input_tokens = serializers.IntegerField()
    output_tokens = serializers.IntegerField()
    cost = serializers.FloatField()
    latency_ms = serializers.IntegerField()


class ContributionSerializer(serializers.ModelSerializer):
    member = serializers.CharField(source="member.display_name")
    member_id = serializers.IntegerField()
    key_points = serializers.ListField(child=serializers.CharField())
    citations = serializers.ListField(child=serializers.CharField(), help_text="Verified citations, `C<chunk id>`.")
    dropped_citations = serializers.ListField(child=serializers.CharField(),
                                              help_text="Citations of passages the expert was never shown.")
    usage = ContributionUsageSerializer(source="*")

    class Meta:
        model = Contribution
        fields = ["id", "member", "member_id", "kind", "text", "position", "stance", "confidence", "estimate",
                  "action", "key_points", "citations", "dropped_citations", "usage", "created_at"]
        read_only_fields = fields


class RoundSerializer(serializers.ModelSerializer):
    summary = serializers.DictField(help_text="What the round produced, e.g. themes or estimate statistics.")
    contributions = ContributionSerializer(many=True)

    class Meta:
        model = Round
        fields = ["number", "title", "state", "summary", "contributions"]
        read_only_fields = fields


class AgreementPointSerializer(serializers.Serializer):
    point = serializers.CharField()
    supporters = serializers.ListField(child=serializers.CharField())


class ConsensusDissentSerializer(serializers.Serializer):
    member_id = serializers.IntegerField()
    name = serializers.CharField()
    role = serializers.CharField()
    stance = serializers.CharField()
    position = serializers.CharField()
    confidence = serializers.FloatField()
    agreement_with_panel = serializers.FloatField()
    reasons = serializers.ListField(child=serializers.CharField())


class ConsensusMatrixSerializer(serializers.Serializer):
    labels = serializers.ListField(child=serializers.CharField(), help_text="The members, in the order of the rows.")
    values = serializers.ListField(child=serializers.ListField(child=serializers.FloatField()),
                                   help_text="Pairwise agreement from 0 to 1.")


class ConsensusSerializer(serializers.Serializer):
    score = serializers.FloatField()
    level = serializers.CharField()
    threshold = serializers.FloatField()
    reached = serializers.BooleanField()
    majority_stance = serializers.CharField()
    agreement_points = AgreementPointSerializer(many=True)
    dissent = ConsensusDissentSerializer(many=True)
    matrix = ConsensusMatrixSerializer()


class RecommendationDissentSerializer(serializers.Serializer):
    name = serializers.CharField()
    stance = serializers.CharField()
    position = serializers.CharField()
    reasons = serializers.ListField(child=serializers.CharField())


class CitationSerializer(serializers.Serializer):
    """A passage the recommendation rests on, and who cited it."""

    citation = serializers.CharField(help_text="`C<chunk id>`.")
    chunk_id = serializers.IntegerField()
    document_id = serializers.IntegerField()
    document_title = serializers.CharField()
    page = serializers.IntegerField(allow_null=True)
    heading = serializers.CharField()
    excerpt = serializers.CharField()
    cited_by = serializers.ListField(child=serializers.CharField())


class RecommendationSerializer(serializers.Serializer):
    summary = serializers.CharField()
    action = serializers.CharField()
    rationale = serializers.ListField(child=serializers.CharField())
    dissent = RecommendationDissentSerializer(many=True)
    citations = CitationSerializer(many=True)


class UsageSerializer(serializers.Serializer):
    tokens = serializers.IntegerField(source="tokens_used")
    cost = serializers.FloatField()
    dropped_citations = serializers.IntegerField()


class PanelSummarySerializer(serializers.ModelSerializer):
    panel_type = serializers.ChoiceField(choices=list(REGISTRY))
    status = serializers.SerializerMethodField()
    owner = serializers.CharField(source="owner.username")

    class Meta:
        model = Panel
        fields = ["id", "query", "panel_type", "status", "owner", "current_round", "created_at", "finished_at"]
        read_only_fields = fields

    @extend_schema_field(serializers.ChoiceField(choices=PANEL_STATUSES))
    def get_status(self, panel):
        return panel.status.lower()


class PanelSerializer(PanelSummarySerializer):
    """A panel with everything it holds so far; consensus and recommendation are null until it completes."""

    settings = serializers.DictField(help_text="max_rounds, consensus_threshold, documents.")
    members = MemberSerializer(many=True)
    rounds = RoundSerializer(many=True)
    consensus = ConsensusSerializer(allow_null=True)
    recommendation = RecommendationSerializer(allow_null=True)
    usage = UsageSerializer(source="*")

    class Meta(PanelSummarySerializer.Meta):
        fields = PanelSummarySerializer.Meta.fields + [
            "settings", "error", "input_deadline", "members", "rounds", "consensus", "recommendation", "usage"]
        read_only_fields = fields


class PanelEventSerializer(serializers.Serializer):
    seq = serializers.IntegerField(help_text="Increasing; resume after it with `?after=` or `Last-Event-ID`.")
    kind = serializers.CharField(help_text="e.g. `status`, `round`, `contribution`, `consensus`.")
    data = serializers.DictField()
    at = serializers.DateTimeField()


class PanelEventsSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=PANEL_STATUSES)
    current_round = serializers.IntegerField()
    rounds = serializers.IntegerField(help_text="The number of rounds planned.")
    events = PanelEventSerializer(many=True)
    last_seq = serializers.IntegerField(help_text="Pass it as `?after=` to get only newer events.")


class RatingSerializer(serializers.Serializer):
    score = serializers.IntegerField(min_value=1, max_value=5)
    comment = serializers.CharField()


class AgentRecommendationSerializer(serializers.Serializer):
    """An expert ranked for a question (agents.ranking.RankedAgent)."""

    agent = AgentSerializer()
    score = serializers.FloatField()
    relevance = serializers.FloatField()
    role = serializers.CharField(help_text="The debate role the panel type would give (`expert` without one).")
    reasons = serializers.ListField(child=serializers.CharField())


class AgentRecommendationsSerializer(serializers.Serializer):
    query = serializers.CharField()
    panel_type = serializers.ChoiceField(choices=list(REGISTRY), allow_null=True)
    results = AgentRecommendationSerializer(many=True)
