from django.db.models import QuerySet

from rag.models import Chunk, Document


def document_list(*, status: str | None = None, tag: str | None = None) -> QuerySet[Document]:
    documents = Document.objects.all()
    if status:
        documents = documents.filter(status=status)
    if tag:
        documents = documents.filter(tags__contains=[tag])
    return documents


def document_get(*, document_id: int) -> Document | None:
    return Document.objects.filter(pk=document_id).first()


def chunk_list(*, document_id: int) -> QuerySet[Chunk]:
    """A document's chunks in reading order, without their vectors."""
    return Chunk.objects.filter(document_id=document_id).defer("embedding", "search_vector")


def chunk_get(*, chunk_id: int) -> Chunk | None:
    """One chunk with its document, without its vectors."""
    return Chunk.objects.select_related("document").defer("embedding", "search_vector").filter(pk=chunk_id).first()
