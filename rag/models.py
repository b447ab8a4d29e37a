import uuid

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django_tenants.files.storage import TenantFileSystemStorage
from pgvector.django import HnswIndex, VectorField

from llm.embeddings.base import DIMENSIONS


def document_path(document, filename: str) -> str:
    # Under MEDIA_ROOT/tenants/<schema>/ (TenantFileSystemStorage); a new name per upload.
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"documents/{uuid.uuid4().hex}.{extension}"


class Document(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending"
        PROCESSING = "processing"
        READY = "ready"
        FAILED = "failed"

    title = models.CharField(max_length=300)
    file = models.FileField(upload_to=document_path, storage=TenantFileSystemStorage(), max_length=300)
    original_name = models.CharField(max_length=300)
    mime_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    checksum = models.CharField(max_length=64, unique=True, help_text="SHA-256 of the file")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING, db_index=True)
    failure_reason = models.TextField(blank=True)
    tags = models.JSONField(default=list, blank=True)
    page_count = models.PositiveIntegerField(null=True, blank=True)
    chunk_count = models.PositiveIntegerField(default=0)
    attempts = models.PositiveSmallIntegerField(
        default=0, help_text="Times processing started; after RAG_MAX_ATTEMPTS (a file that keeps taking the "
                             "worker down) the document fails instead of being tried again")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return self.title


class Chunk(models.Model):
    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="chunks")
    ordinal = models.PositiveIntegerField()
    text = models.TextField()
    heading = models.CharField(max_length=500, blank=True)
    char_start = models.PositiveIntegerField()
    char_end = models.PositiveIntegerField()
    page = models.PositiveIntegerField(null=True, blank=True)
    token_count = models.PositiveIntegerField()
    embedding = VectorField(dimensions=DIMENSIONS)
    search_vector = SearchVectorField(null=True)

    class Meta:
        ordering = ["document_id", "ordinal"]
        constraints = [models.UniqueConstraint(fields=["document", "ordinal"], name="chunk_ordinal_unique")]
        indexes = [
            HnswIndex(name="chunk_embedding_hnsw", fields=["embedding"], m=16, ef_construction=64,
                      opclasses=["vector_cosine_ops"]),
            GinIndex(fields=["search_vector"], name="chunk_search_gin"),
        ]

    def __str__(self):
        return f"{self.document_id}#{self.ordinal}"


class SearchRecord(models.Model):
    """A search as it happened: what was asked and which chunks came back. A citation is
    verified when a record of its panel (or caller) returned that chunk."""

    purpose = models.CharField(max_length=100, db_index=True, help_text='e.g. "panel:12", "api"')
    query = models.TextField()
    k = models.PositiveSmallIntegerField()
    filters = models.JSONField(default=dict, blank=True)
    chunk_ids = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
