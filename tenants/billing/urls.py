"""The Usage page and its statement downloads (tenant hosts)."""

from django.urls import path

from tenants.billing import views

urlpatterns = [
    path("usage/", views.usage_page, name="usage-page"),
    path("usage/statements/<str:month>.csv", views.statement_download_csv, name="usage-page-statement-csv"),
    path("usage/statements/<str:month>.pdf", views.statement_download_pdf, name="usage-page-statement-pdf"),
]
