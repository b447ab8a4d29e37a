from django.apps import AppConfig


class RagConfig(AppConfig):
    """Tenant documents, chunks, embeddings and retrieval (tenant schema)."""

    name = "rag"
    verbose_name = "Documents"
