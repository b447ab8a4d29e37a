"""URLs on the platform host (BASE_DOMAIN itself)."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from config.admin_sites import platform_site
from config.api.views import HealthView
from tenants import views as tenant_views

api_v1 = [
    path("health/", HealthView.as_view(), name="health"),
    path("schema/", SpectacularAPIView.as_view(urlconf="config.urls_tenant"), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
]

urlpatterns = [
    path("", tenant_views.platform_home, name="platform-home"),
    path("admin/", platform_site.urls),
    path("api/v1/", include(api_v1)),
]
