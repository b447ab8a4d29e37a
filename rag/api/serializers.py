"""Output shapes of the documents and search API."""

from rest_framework import serializers

from rag.models import Document


class DocumentSerializer(serializers.ModelSerializer):
    uploaded_by = serializers.CharField(source="uploaded_by.username", default=None, allow_null=True, read_only=True,
                                        help_text="The uploader's username (null once that user is gone).")
    tags = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = Document
        fields = ["id", "title", "original_name", "mime_type", "size", "checksum", "status", "failure_reason",
                  "tags", "page_count", "chunk_count", "uploaded_by", "created_at", "processed_at"]
        read_only_fields = fields


class SearchHitSerializer(serializers.Serializer):
    """One retrieved passage (rag.retrieval.SearchHit); cite it as `citation`."""

    chunk_id = serializers.IntegerField()
    citation = serializers.CharField(help_text="`C<chunk id>`, the id a panel cites this passage by.")
    document_id = serializers.IntegerField()
    document_title = serializers.CharField()
    text = serializers.CharField()
    heading = serializers.CharField()
    page = serializers.IntegerField(allow_null=True)
    char_start = serializers.IntegerField()
    char_end = serializers.IntegerField()
    score = serializers.FloatField(help_text="Reciprocal rank fusion of the vector and the full-text ranks.")
    vector_rank = serializers.IntegerField(allow_null=True)
    text_rank = serializers.IntegerField(allow_null=True)
    similarity = serializers.FloatField(allow_null=True)


class SearchResultsSerializer(serializers.Serializer):
    query = serializers.CharField()
    search_id = serializers.IntegerField(source="record_id", allow_null=True,
                                         help_text="The recorded search, which panels use to verify citations.")
    results = SearchHitSerializer(source="hits", many=True)
