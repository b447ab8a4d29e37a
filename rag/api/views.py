from rest_framework import serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from config.api.pagination import PageNumberPagination
from tenants.api.base import TenantAPIView
from config.errors import NotFound
from rag.models import Document
from rag.retrieval import search
from rag.selectors import document_get, document_list
from rag.services import document_delete, document_upload


class DocumentSerializer(serializers.ModelSerializer):
    uploaded_by = serializers.CharField(source="uploaded_by.username", default=None, read_only=True)

    class Meta:
        model = Document
        fields = ["id", "title", "original_name", "mime_type", "size", "checksum", "status", "failure_reason",
                  "tags", "page_count", "chunk_count", "uploaded_by", "created_at", "processed_at"]


class DocumentListView(TenantAPIView):
    """POST a file (multipart: `file`, optional `title`, `tags`) -> 202 queued; GET the list."""

    parser_classes = [MultiPartParser, FormParser]

    class FilterSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=Document.Status.values, required=False)
        tag = serializers.CharField(max_length=50, required=False)

    class InputSerializer(serializers.Serializer):
        file = serializers.FileField(allow_empty_file=True)
        title = serializers.CharField(max_length=300, required=False, allow_blank=True)
        tags = serializers.CharField(max_length=1000, required=False, allow_blank=True,
                                     help_text="comma-separated")

    def get(self, request):
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(document_list(**filters.validated_data), request, view=self)
        return paginator.get_paginated_response(DocumentSerializer(page, many=True).data)

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
    def get(self, request, document_id):
        document = document_get(document_id=document_id)
        if document is None:
            raise NotFound(f"There is no document {document_id}.")
        return Response(DocumentSerializer(document).data)

    def delete(self, request, document_id):
        document_delete(document_id=document_id, user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class SearchView(TenantAPIView):
    """Hybrid retrieval over this tenant's documents."""

    class InputSerializer(serializers.Serializer):
        q = serializers.CharField(min_length=2, max_length=2000)
        k = serializers.IntegerField(min_value=1, max_value=50, default=8)
        document = serializers.ListField(child=serializers.IntegerField(min_value=1), required=False)
        tag = serializers.ListField(child=serializers.CharField(max_length=50), required=False)

    def get(self, request):
        params = self.InputSerializer(data={
            **{key: request.query_params.get(key) for key in ("q", "k") if key in request.query_params},
            "document": request.query_params.getlist("document"),
            "tag": request.query_params.getlist("tag"),
        })
        params.is_valid(raise_exception=True)
        data = params.validated_data
        result = search(query=data["q"], k=data["k"], document_ids=data.get("document"), tags=data.get("tag"),
                        purpose=f"api:{request.user.pk}")
        return Response({"query": result.query, "search_id": result.record_id,
                         "results": [hit.as_dict() for hit in result.hits]})


