"""Documents pages (on a tenant's host; the API is in rag/api/urls.py)."""

from django.urls import path

from rag import views

urlpatterns = [
    path("documents/", views.document_list_view, name="document-list"),
    path("documents/table/", views.document_table_view, name="document-table"),
    path("documents/upload/", views.document_upload_view, name="document-upload"),
    path("documents/search/", views.document_search_view, name="document-search"),
    path("documents/<int:document_id>/", views.document_detail_view, name="document-detail"),
    path("documents/<int:document_id>/delete/", views.document_delete_view, name="document-delete"),
    path("passages/<int:chunk_id>/", views.passage_view, name="passage"),
]
