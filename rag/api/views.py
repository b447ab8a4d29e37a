from django.core.validators import RegexValidator
from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from config.api.pagination import PageNumberPagination
from config.api.params import query_data
from config.api.schema import errors
from config.errors import NotFound
from rag.api.serializers import DocumentSerializer, SearchResultsSerializer
from rag.models import Document
from rag.retrieval import search
from rag.selectors import document_get, document_list
from rag.services import document_delete, document_upload
from tenants.api.base import TENANT_ERRORS, TenantAPIView


# At most 20 comma-separated tags of at most 50 characters (one tag, or 2 to 20 with commas).
TAGS = RegexValidator(r"^([^,]{1,50}|[^,]{0,50}(,[^,]{0,50}){1,19})$", "At most 20 tags, each at most 50 characters.")


class DocumentListView(TenantAPIView):
    """POST a file (multipart: `file`, optional `title`, `tags`) -> 202 queued; GET the list."""

    parser_classes = [MultiPartParser]
    pagination_class = PageNumberPagination

    class FilterSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=Document.Status.values, required=False)
        tag = serializers.CharField(max_length=50, required=False)

    @extend_schema_serializer(component_name="DocumentUpload")
    class InputSerializer(serializers.Serializer):
        file = serializers.FileField(allow_empty_file=True, help_text="PDF, Word (.docx), text or Markdown.")
        title = serializers.CharField(max_length=300, required=False, allow_blank=True,
                                      help_text="Defaults to the file's name.")
        tags = serializers.CharField(
            max_length=1000, required=False, allow_blank=True, help_text="Comma-separated, e.g. `payers, pricing`.",
            validators=[TAGS])

    @extend_schema(operation_id="documents_list", summary="This tenant's documents", parameters=[FilterSerializer],
                   responses={200: DocumentSerializer(many=True), **errors(*TENANT_ERRORS)})
    def get(self, request):
        filters = self.FilterSerializer(data=query_data(request))
        filters.is_valid(raise_exception=True)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(document_list(**filters.validated_data), request, view=self)
        return paginator.get_paginated_response(DocumentSerializer(page, many=True).data)

    @extend_schema(operation_id="documents_upload", summary="Upload a document; it is queued for ingestion",
                   request=InputSerializer,
                   responses={202: DocumentSerializer, **errors(*TENANT_ERRORS, 409, 413, 415, 429)})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        upload = data.validated_data["file"]
        document = document_upload(
            user=request.user, filename=upload.name, data=upload.read(),
            title=data.validated_data.get("title", ""), tags=data.validated_data.get("tags"),
        )
        return Response(DocumentSerializer(document).data, status=status.HTTP_202_ACCEPTED)


class DocumentDetailView(TenantAPIView):
    @extend_schema(operation_id="documents_get", summary="One document and its ingestion status",
                   responses={200: DocumentSerializer, **errors(*TENANT_ERRORS)})
    def get(self, request, document_id):
        document = document_get(document_id=document_id)
        if document is None:
            raise NotFound(f"There is no document {document_id}.")
        return Response(DocumentSerializer(document).data)

    @extend_schema(operation_id="documents_delete", summary="Delete a document (its uploader or a tenant admin)",
                   responses={204: None, **errors(*TENANT_ERRORS)})
    def delete(self, request, document_id):
        document_delete(document_id=document_id, user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class SearchView(TenantAPIView):
    """Hybrid retrieval over this tenant's documents."""

    class InputSerializer(serializers.Serializer):
        q = serializers.CharField(min_length=2, max_length=2000)
        k = serializers.IntegerField(min_value=1, max_value=50, default=8, help_text="How many passages.")
        document = serializers.ListField(child=serializers.IntegerField(min_value=1), required=False,
                                         help_text="Only these documents (repeat the parameter).")
        tag = serializers.ListField(child=serializers.CharField(max_length=50), required=False,
                                    help_text="Only documents with one of these tags (repeat the parameter).")

    @extend_schema(operation_id="search", summary="Hybrid retrieval (vector and full text) over the documents",
                   parameters=[InputSerializer],
                   responses={200: SearchResultsSerializer, **errors(*TENANT_ERRORS, 502, 503)})
    def get(self, request):
        params = self.InputSerializer(data=query_data(request, lists=("document", "tag")))
        params.is_valid(raise_exception=True)
        data = params.validated_data
        result = search(query=data["q"], k=data["k"], document_ids=data.get("document"), tags=data.get("tag"),
                        purpose=f"api:{request.user.pk}")
        return Response(SearchResultsSerializer(result).data)
