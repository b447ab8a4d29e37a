"""API views that need no tenant (the base of tenant views is tenants/api/base.py)."""

from rest_framework import permissions
from rest_framework.response import Response
from rest_framework.views import APIView

from config import health


class HealthView(APIView):
    """Liveness on any host: database, Redis, worker."""

    authentication_classes = []
    permission_classes = [permissions.AllowAny]

    def get(self, request):
        checks = [check() for check in health.HEALTH_CHECKS]
        required_ok = all(check.ok for check in checks if check.name != "worker")
        status_text = "ok" if all(check.ok for check in checks) else ("degraded" if required_ok else "down")
        return Response(
            {"status": status_text, "checks": {check.name: check.as_dict() for check in checks}},
            status=200 if required_ok else 503,
        )
