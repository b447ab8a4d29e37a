from django.urls import path

from tenants.audit.api import views

urlpatterns = [
    path("audit/", views.AuditEventListView.as_view(), name="audit-list"),
]
