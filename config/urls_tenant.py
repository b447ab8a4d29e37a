"""URLs on a tenant's host (or the platform host with X-Tenant-ID)."""

from django.urls import include, path

from config.admin_sites import tenant_site
from config.api.views import HealthView

api_v1 = [
    path("health/", HealthView.as_view(), name="health"),
    path("", include("tenants.api.urls")),
    path("", include("panels.api.urls")),  # before agents: its agents/recommend/ precedes agents/<slug>/
    path("", include("agents.api.urls")),
    path("", include("rag.api.urls")),
    path("", include("tenants.billing.api.urls")),
    path("", include("panels.api.analytics_urls")),
    path("", include("tenants.audit.api.urls")),
]

urlpatterns = [
    path("", include("tenants.urls")),  # sign-in, password, settings
    path("admin/", tenant_site.urls),
    path("api/v1/", include(api_v1)),
    path("", include("panels.urls")),  # the dashboard (home), ask, live panel, history
    path("", include("rag.urls")),
    path("", include("agents.urls")),
    path("", include("tenants.billing.urls")),  # usage and statements
    path("", include("tenants.audit.urls")),  # the audit trail, under settings
]

handler500 = "tenants.views.server_error"  # branded; 403 and 404 render templates/403.html, 404.html
