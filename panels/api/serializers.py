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
    title = serializers.CharField(source="display_title")
    private = serializers.BooleanField(source="is_private", help_text="One of the organisation's own experts.")
    agent = MemberAgentSerializer(allow_null=True,
                                  help_text="The catalog agent; null for a human or a private expert.")

    class Meta:
        model = PanelMember
        fields = ["id", "name", "title", "private", "role", "seat", "agent"]
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


class EstimateRangeSerializer(serializers.Serializer):
    low = serializers.IntegerField()
    expected = serializers.IntegerField()
    high = serializers.IntegerField()


class CostRangeSerializer(serializers.Serializer):
    low = serializers.FloatField(allow_null=True)
    expected = serializers.FloatField(allow_null=True)
    high = serializers.FloatField(allow_null=True)


class EstimateRangesSerializer(serializers.Serializer):
    input_tokens = EstimateRangeSerializer()
    output_tokens = EstimateRangeSerializer()
    tokens = EstimateRangeSerializer()
    cost = CostRangeSerializer(help_text="USD the platform charges; null when the model has no price.")


class EstimateBasisSerializer(serializers.Serializer):
    plan_tokens = serializers.IntegerField(help_text="The round plan's figure, before any history.")
    history_panels = serializers.IntegerField(
        help_text="Your completed panels of this type the estimate learned from (the last 10 at most).")
    scale = serializers.FloatField(help_text="Median of their actual tokens over the plan's figure; 1 with none.")
    low_factor = serializers.FloatField(help_text="The range's low end over the plan's figure (0.6 with no history).")
    high_factor = serializers.FloatField(help_text="The range's high end over the plan's figure (1.5 with no history).")


class BudgetTokensFitSerializer(serializers.Serializer):
    limit = serializers.IntegerField(help_text="The monthly budget.")
    used = serializers.IntegerField(help_text="Used this month, from the usage ledger.")
    reserved = serializers.IntegerField(help_text="Still expected by panels that are not final yet.")
    remaining = serializers.IntegerField(help_text="limit - used - reserved, at least 0.")
    estimate = serializers.IntegerField(help_text="This panel's expected figure.")
    fits = serializers.BooleanField()


class BudgetCostFitSerializer(BudgetTokensFitSerializer):
    limit = serializers.FloatField(help_text="The monthly budget, USD.")
    used = serializers.FloatField()
    reserved = serializers.FloatField()
    remaining = serializers.FloatField()
    estimate = serializers.FloatField()


class BudgetFitSerializer(serializers.Serializer):
    tokens = BudgetTokensFitSerializer()
    cost = BudgetCostFitSerializer()
    fits = serializers.BooleanField(help_text="Both budgets cover the expected figure: creating it would be admitted "
                                              "(as far as the budget goes).")
    level = serializers.ChoiceField(choices=["ok", "soft", "hard"], help_text="Past the soft limit, or used up.")
    resets_at = serializers.DateTimeField(help_text="When the monthly budgets start again.")
    retry_after_seconds = serializers.IntegerField()


class PanelEstimateSerializer(serializers.Serializer):
    """What a panel is expected to use before it starts, and how that fits the month's budget."""

    panel_type = serializers.ChoiceField(choices=list(REGISTRY))
    experts = serializers.IntegerField()
    rounds = serializers.IntegerField()
    calls = serializers.IntegerField(help_text="Model calls planned, the chair's synthesis included.")
    model = serializers.CharField()
    input_tokens = serializers.IntegerField(help_text="Expected.")
    output_tokens = serializers.IntegerField(help_text="Expected.")
    tokens = serializers.IntegerField(help_text="Expected total.")
    cost = serializers.FloatField(allow_null=True, help_text="Expected USD charged; null when the model has no price.")
    range = EstimateRangesSerializer()
    basis = EstimateBasisSerializer()
    token_limit = serializers.IntegerField(help_text="Your plan's tokens per panel.")
    over_limit = serializers.BooleanField(help_text="The expected figure is above the tokens per panel.")
    budget = BudgetFitSerializer()
