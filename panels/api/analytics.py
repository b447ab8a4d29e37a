"""`GET /api/v1/analytics/`: the figures of the analytics page (panels/analytics.py), for
tenant admins on a plan with `advanced_analytics`."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from config.api.params import query_data
from config.api.schema import errors
from panels.analytics import (
    CONSENSUS_LEVELS,
    DEFAULT_WEEKS,
    analytics_access_check,
    analytics_get,
    analytics_range,
)
from tenants.api.base import TENANT_ERRORS, TenantAPIView
from tenants.configuration import PANEL_TYPE_NAMES

DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"  # YYYY-MM-DD


class AnalyticsWeekSerializer(serializers.Serializer):
    week = serializers.CharField(help_text="The ISO week, e.g. `2026-W48`.")
    starts_on = serializers.DateField(help_text="Its Monday.")
    total = serializers.IntegerField(help_text="Panels created that week.")
    by_type = serializers.DictField(child=serializers.IntegerField(),
                                    help_text=f"Panels by type ({', '.join(PANEL_TYPE_NAMES)}); types with none left out.")
    by_status = serializers.DictField(child=serializers.IntegerField(),
                                      help_text="Panels by their status now; statuses with none left out.")


class AnalyticsConsensusWeekSerializer(serializers.Serializer):
    week = serializers.CharField()
    starts_on = serializers.DateField()
    count = serializers.IntegerField(help_text="Panels of that week that reached an outcome with a consensus.")
    mean_score = serializers.FloatField(allow_null=True, help_text="Their mean consensus score (0-1); null for none.")
    levels = serializers.DictField(child=serializers.IntegerField(),
                                   help_text=f"Their count per consensus level ({', '.join(CONSENSUS_LEVELS)}).")


class AnalyticsCompletedSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text="Completed panels.")
    median_duration_seconds = serializers.FloatField(allow_null=True, help_text="Median of finished - started.")
    median_tokens = serializers.FloatField(allow_null=True, help_text="Median tokens used.")
    with_dissent = serializers.IntegerField(help_text="Completed panels whose consensus recorded dissenters.")
    dissent_rate = serializers.FloatField(allow_null=True, help_text="with_dissent / count; null for none.")


class AnalyticsExpertUsedSerializer(serializers.Serializer):
    slug = serializers.SlugField()
    name = serializers.CharField()
    panels = serializers.IntegerField(help_text="Panels the expert sat on.")


class AnalyticsExpertRatedSerializer(serializers.Serializer):
    slug = serializers.SlugField()
    name = serializers.CharField()
    mean_rating = serializers.FloatField(help_text="Mean of the users' ratings (1-5) of panels the expert sat on.")
    ratings = serializers.IntegerField()


class AnalyticsDocumentSerializer(serializers.Serializer):
    document_id = serializers.IntegerField()
    title = serializers.CharField()
    citations = serializers.IntegerField(help_text="Verified citations of the document's passages.")
    panels = serializers.IntegerField(help_text="Panels that cited it.")


class AnalyticsSerializer(serializers.Serializer):
    # `from` is a Python keyword, so it is the serializer's name for the `start` attribute.
    to = serializers.DateField(source="end")
    total = serializers.IntegerField(help_text="Panels created in the range.")
    weeks = AnalyticsWeekSerializer(many=True)
    consensus = AnalyticsConsensusWeekSerializer(many=True, help_text="Consensus levels over time, per week.")
    completed = AnalyticsCompletedSerializer()
    experts_used = AnalyticsExpertUsedSerializer(many=True, help_text="The 10 experts seated most.")
    experts_rated = AnalyticsExpertRatedSerializer(many=True, help_text="The 10 experts rated best.")
    documents_cited = AnalyticsDocumentSerializer(many=True, help_text="The 10 documents cited most.")

    def get_fields(self):
        return {"from": serializers.DateField(source="start"), **super().get_fields()}


class AnalyticsView(TenantAPIView):
    """Panels per week by type and status, consensus over time, median duration and tokens,
    dissent, the experts used most and rated best, the documents cited most."""

    class InputSerializer(serializers.Serializer):
        to = serializers.DateField(required=False)

        def get_fields(self):
            return {"from": serializers.DateField(required=False), **super().get_fields()}

    @extend_schema(
        operation_id="analytics_get", summary="The tenant's panel analytics for a date range (admins)",
        parameters=[  # described by hand: a date parameter needs its pattern in the schema
            OpenApiParameter("from", OpenApiTypes.DATE, pattern=DATE_PATTERN,
                             description=f"The first day (inclusive); default {DEFAULT_WEEKS} weeks before `to`."),
            OpenApiParameter("to", OpenApiTypes.DATE, pattern=DATE_PATTERN,
                             description="The last day (inclusive); default today."),
        ],
        responses={200: AnalyticsSerializer, **errors(*TENANT_ERRORS)})
    def get(self, request):
        analytics_access_check(tenant=request.tenant, user=request.user)
        params = self.InputSerializer(data=query_data(request))
        params.is_valid(raise_exception=True)
        start, end = analytics_range(start=params.validated_data.get("from"), end=params.validated_data.get("to"))
        return Response(AnalyticsSerializer(analytics_get(start=start, end=end)).data)
