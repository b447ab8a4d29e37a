from django.urls import path

from tenants.api.views import TenantDetailView, TokenObtainView

urlpatterns = [
    path("auth/token/", TokenObtainView.as_view(), name="auth-token"),
    path("tenant/", TenantDetailView.as_view(), name="tenant-detail"),
]
