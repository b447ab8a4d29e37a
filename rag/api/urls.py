from django.urls import path

from rag.api.views import DocumentDetailView, DocumentListView, SearchView

urlpatterns = [
    path("documents/", DocumentListView.as_view(), name="api-document-list"),
    path("documents/<int:document_id>/", DocumentDetailView.as_view(), name="api-document-detail"),
    path("search/", SearchView.as_view(), name="search"),
]
