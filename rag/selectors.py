from django.db.models import QuerySet

from rag.models import Document


def document_list(*, status: str | None = None, tag: str | None = None) -> QuerySet[Document]:
    documents = Document.objects.all()
    if status:
        documents = documents.filter(status=status)
    if tag:
        documents = documents.filter(tags__contains=[tag])
    return documents


def document_get(*, document_id: int) -> Document | None:
    return Document.objects.filter(pk=document_id).first()
