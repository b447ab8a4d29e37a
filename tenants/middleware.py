"""Routing: a request's tenant comes from its host, or (API paths only) from X-Tenant-ID on
the platform host.

Refusals: unknown tenant -> 404, malformed header -> 400, header naming another tenant
than the host -> 403, suspended/inactive tenant -> 403 naming the reason. API paths get
the JSON error shape, pages get an HTML page. Health answers on any host.

The host -> tenant answer is read through the routing cache (tenants/selectors.py).
"""

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.db import connection
from django.shortcuts import render
from django_tenants.middleware.main import TenantMainMiddleware

from config.api.errors import error_response
from tenants.models import SCHEMA_NAME, Tenant
from tenants.selectors import tenant_for_hostname, tenant_for_schema

TENANT_HEADER = "X-Tenant-ID"
TENANT_HEADER_META = "HTTP_X_TENANT_ID"  # read from META: request.headers copies every header
HEALTH_PATH = "/api/v1/health/"


class TenantRoutingMiddleware(TenantMainMiddleware):
    def process_request(self, request):
        connection.set_schema_to_public()
        if request.path == HEALTH_PATH:
            request.tenant = None
            self._route(request, public=True)
            return None
        try:
            hostname = self.hostname_from_request(request)
        except DisallowedHost:
            return self._refuse(request, 400, "bad_host", "This host name is not served here.")

        tenant = tenant_for_hostname(hostname)
        if tenant is None:
            return self._refuse(request, 404, "tenant_not_found", f"No tenant is served at {hostname}.")

        # The header is for API clients behind a gateway; pages are served on tenant hosts only.
        header = request.META.get(TENANT_HEADER_META) if request.path.startswith("/api/") else None
        if header is not None:
            header = header.strip()
            if not SCHEMA_NAME.match(header):
                return self._refuse(
                    request, 400, "bad_tenant_header",
                    f"The {TENANT_HEADER} header must be a tenant id (lowercase letters, digits, underscore).",
                )
            if tenant.is_public:
                tenant = tenant_for_schema(header)
                if tenant is None:
                    return self._refuse(request, 404, "tenant_not_found", f"There is no tenant {header!r}.")
            elif header != tenant.schema_name:
                return self._refuse(
                    request, 403, "tenant_mismatch",
                    f"This host serves tenant {tenant.schema_name!r}; the {TENANT_HEADER} header names {header!r}.",
                )

        if not tenant.is_public and not tenant.is_active:
            reason = tenant.status_reason or "Contact your administrator."
            return self._refuse(
                request, 403, f"tenant_{tenant.status}",
                f"{tenant.configuration.branding.display_name} is {tenant.status}: {reason}",
                details={"status": tenant.status, "reason": tenant.status_reason}, branded_for=tenant,
            )

        tenant.domain_url = hostname
        request.tenant = tenant
        connection.set_tenant(tenant)
        self._route(request, public=tenant.is_public)
        return None

    def process_response(self, request, response):
        tenant = getattr(request, "tenant", None)
        if tenant is not None and not tenant.is_public:
            response[TENANT_HEADER] = tenant.schema_name
        return response

    def _route(self, request, *, public: bool) -> None:
        from django.urls import set_urlconf

        request.urlconf = settings.PUBLIC_SCHEMA_URLCONF if public else settings.ROOT_URLCONF
        set_urlconf(request.urlconf)

    @staticmethod
    def _refuse(request, status: int, code: str, message: str, details: dict | None = None, branded_for=None):
        if request.path.startswith("/api/"):
            return error_response(code, message, status, details)
        context = {"status": status, "code": code, "message": message}
        if branded_for is not None:  # a known tenant (suspended): its page keeps its look
            context |= {"tenant": branded_for, "branding": branded_for.configuration.branding}
        return render(request, "tenants/refused.html", context, status=status)


__all__ = ["TenantRoutingMiddleware", "Tenant"]
