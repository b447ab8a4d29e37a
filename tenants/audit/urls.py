"""The audit trail page, under Settings (tenant hosts)."""

from django.urls import path

from tenants.audit import views

urlpatterns = [
    path("settings/audit/", views.audit_page, name="settings-audit"),
]
