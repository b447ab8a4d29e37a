from django.urls import path

from tenants.billing.api import views

urlpatterns = [
    path("usage/", views.UsageView.as_view(), name="usage"),
    path("usage/statements/", views.StatementListView.as_view(), name="usage-statements"),
    path("usage/statements/<str:month>.csv", views.StatementCsvView.as_view(), name="usage-statement-csv"),
    path("usage/statements/<str:month>.pdf", views.StatementPdfView.as_view(), name="usage-statement-pdf"),
]
