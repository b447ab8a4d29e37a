"""API views that need no tenant (the base of tenant views is tenants/api/base.py)."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import permissions, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from config import health


class HealthCheckSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    detail = serializers.CharField(help_text="What was found, or why the check failed.")
    ms = serializers.FloatField(help_text="How long the check took.")


class HealthSerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=["ok", "degraded", "down"],
        help_text="`degraded`: only the worker is missing; `down`: the database or Redis is.")
    checks = serializers.DictField(child=HealthCheckSerializer(), help_text="By name: database, redis, worker.")


class HealthView(APIView):
    """Liveness on any host: database, Redis, worker."""

    authentication_classes = []
    permission_classes = [permissions.AllowAny]

    @extend_schema(operation_id="health", summary="Liveness: database, Redis, worker (no tenant, no sign-in)",
                   responses={200: HealthSerializer,
                              503: OpenApiResponse(HealthSerializer, "The database or Redis is down.")})
    def get(self, request):
        checks = [check() for check in health.HEALTH_CHECKS]
        required_ok = all(check.ok for check in checks if check.name != "worker")
        status_text = "ok" if all(check.ok for check in checks) else ("degraded" if required_ok else "down")
        return Response(
            HealthSerializer({"status": status_text, "checks": {check.name: check.as_dict() for check in checks}}).data,
            status=200 if required_ok else 503,
        )
