"""The base of every tenant API view: authentication, the tenant check and throttling."""

from django.db import connection
from rest_framework import permissions
from rest_framework.authentication import TokenAuthentication
from rest_framework.views import APIView

from tenants.context import TenantContextMissing


class TenantActive(permissions.BasePermission):
    """The request runs inside a tenant (host or X-Tenant-ID), and API access is allowed."""

    message = "API access is not enabled for this tenant's plan."

    def has_permission(self, request, view):
        tenant = getattr(request, "tenant", None)
        if tenant is None or connection.schema_name == "public":
            raise TenantContextMissing(
                "This endpoint belongs to a tenant: call it on the tenant's host or send X-Tenant-ID: <tenant>."
            )
        if isinstance(request.successful_authenticator, TokenAuthentication):
            return tenant.configuration.features.api_access
        return True


class TenantAPIView(APIView):
    """Authentication, tenant checks and throttling for every tenant endpoint."""

    permission_classes = [TenantActive, permissions.IsAuthenticated]

    @property
    def tenant(self):
        return self.request.tenant
