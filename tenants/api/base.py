"""The base of every tenant API view: authentication, the tenant check and throttling, and
what the OpenAPI schema says about all of them (the X-Tenant-ID header, the shared errors)."""

from django.db import connection
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import permissions
from rest_framework.authentication import TokenAuthentication
from rest_framework.parsers import JSONParser
from rest_framework.views import APIView

from tenants.api.throttling import TenantRateThrottle, UserRateThrottle
from tenants.context import TenantContextMissing
from tenants.middleware import TENANT_HEADER
from tenants.models import SCHEMA_NAME

# The errors any tenant endpoint can answer: a malformed X-Tenant-ID or invalid input (400),
# no or a wrong token (401), a suspended tenant, another tenant's host or no API access on
# the plan (403), an unknown tenant (404), too many requests (429, tenants/api/throttling.py).
# Views list these plus their own.
TENANT_ERRORS = (400, 401, 403, 404, 429)

TENANT_HEADER_PARAMETER = OpenApiParameter(
    TENANT_HEADER, str, OpenApiParameter.HEADER, required=False, pattern=SCHEMA_NAME.pattern,
    description="The tenant's id (e.g. `acme`), for clients behind an API gateway that call the platform host. "
                "On a tenant's own host leave it out or name that tenant: naming another is refused (403).",
)


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


@extend_schema(parameters=[TENANT_HEADER_PARAMETER])
class TenantAPIView(APIView):
    """Authentication, tenant checks and throttling for every tenant endpoint. Request
    bodies are JSON (an upload view sets its own parsers)."""

    permission_classes = [TenantActive, permissions.IsAuthenticated]
    parser_classes = [JSONParser]
    throttle_classes = [UserRateThrottle, TenantRateThrottle]

    def check_throttles(self, request):
        """The first limit reached refuses the request and says which (DRF's own raises a
        bare Throttled); a user over their own limit does not use up the tenant's."""
        for throttle in self.get_throttles():
            if not throttle.allow_request(request, self):
                raise throttle.refusal()

    @property
    def tenant(self):
        return self.request.tenant


def tenant_header_once(result, generator, request, public):
    """A drf-spectacular postprocessing hook: X-Tenant-ID is described once, in
    `components.parameters`, and every operation refers to it."""
    reference = {"$ref": "#/components/parameters/TenantHeader"}
    described = None
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            parameters = operation.get("parameters", [])
            for index, parameter in enumerate(parameters):
                if parameter.get("in") == "header" and parameter.get("name") == TENANT_HEADER:
                    described, parameters[index] = parameter, reference
    if described is not None:
        result.setdefault("components", {})["parameters"] = {"TenantHeader": described}
    return result
