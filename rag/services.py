"""Writes of the rag app: upload, ingest, delete. Everything runs in the active tenant."""

from __future__ import annotations

import hashlib
import logging

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.db.models import Sum
from django.utils import timezone

from config.errors import Conflict, DomainError, Forbidden, LimitExceeded, NotFound
from llm.embeddings import get_embedder
from rag.chunking import chunk_text
from rag.extraction import ExtractionError, content_check, extract_upload, file_type
from rag.models import Chunk, Document
from tenants.audit.services import audit_record
from tenants.billing.services import usage_record
from tenants.context import current_tenant
from tenants.roles import can_manage

logger = logging.getLogger(__name__)
EMBED_BATCH = 64


class FileTooLarge(DomainError):
    code = "file_too_large"
    status_code = 413


class DuplicateDocument(Conflict):
    code = "duplicate_document"


def _clean_tags(tags) -> list[str]:
    if tags in (None, ""):
        return []
    if isinstance(tags, str):
        tags = tags.split(",")
    if not isinstance(tags, (list, tuple)):
        raise DomainError("`tags` must be a list of words or a comma-separated string.", code="invalid")
    cleaned = sorted({str(tag).strip().lower() for tag in tags if str(tag).strip()})
    if any(len(tag) > 50 for tag in cleaned) or len(cleaned) > 20:
        raise DomainError("At most 20 tags, each at most 50 characters.", code="invalid")
    return cleaned


def document_upload(*, user, filename: str, data: bytes, title: str = "", tags=None, enqueue: bool = True) -> Document:
    """Check the upload against the tenant's limits, store it, and queue its ingestion.
    A refused upload writes nothing."""
    tenant = current_tenant()
    limits = tenant.configuration.limits
    extension, mime_type = file_type(filename)
    size = len(data)
    if size == 0:
        raise DomainError(f"{filename!r} is empty.", code="empty_file")
    if size > settings.RAG_MAX_FILE_MB * 1024 * 1024:
        raise FileTooLarge(f"{filename!r} is {size / 1048576:.1f} MB; the largest file accepted is "
                           f"{settings.RAG_MAX_FILE_MB} MB.", details={"size": size})
    content_check(filename=filename, extension=extension, data=data)  # a .pdf that is not a PDF
    tags = _clean_tags(tags)
    title = (title or filename.rsplit(".", 1)[0]).strip()[:300]
    checksum = hashlib.sha256(data).hexdigest()

    with transaction.atomic():
        # One upload at a time per tenant, so two racing uploads cannot both pass the limits.
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"rag-upload:{tenant.schema_name}"])
        existing = Document.objects.filter(checksum=checksum).first()
        if existing is not None:
            raise DuplicateDocument(
                f"This file was already uploaded as {existing.title!r} (document {existing.id}); it was not stored again.",
                details={"document_id": existing.id, "status": existing.status},
            )
        count = Document.objects.count()
        if count >= limits.max_documents:
            raise LimitExceeded(
                f"Your plan allows {limits.max_documents} documents and you have {count}; delete some or upgrade.",
                details={"limit": "max_documents", "value": limits.max_documents, "used": count},
            )
        used = Document.objects.aggregate(total=Sum("size"))["total"] or 0
        if used + size > limits.max_storage_mb * 1024 * 1024:
            raise FileTooLarge(
                f"This upload would use {(used + size) / 1048576:.1f} MB of your plan's {limits.max_storage_mb} MB "
                "of document storage; delete some documents or upgrade.",
                details={"limit": "max_storage_mb", "value": limits.max_storage_mb, "used_bytes": used},
            )
        document = Document(title=title, original_name=filename[:300], mime_type=mime_type, size=size,
                            checksum=checksum, tags=tags, uploaded_by=user)
        document.file.save(filename, ContentFile(data), save=False)
        try:
            document.save()
            usage_record(tenant=tenant, kind="storage_added", key=f"storage:{tenant.pk}:{document.pk}:added",
                         user_id=getattr(user, "pk", None), quantity=size, data={"document_id": document.pk})
        except Exception:
            document.file.delete(save=False)  # nothing half-written
            raise
        if enqueue:
            from rag.tasks import document_ingest

            transaction.on_commit(lambda: document_ingest.delay(document.id))
    return document


def document_process(*, document_id: int) -> Document:
    """Extract, chunk, embed and store a document's chunks; mark it ready or failed."""
    tenant = current_tenant()
    with transaction.atomic():
        document = Document.objects.select_for_update().filter(pk=document_id).first()
        if document is None:
            raise NotFound(f"Document {document_id} does not exist (deleted before it was processed?).")
        if document.status == Document.Status.READY:
            return document  # a retried task: nothing to do twice
        if document.status == Document.Status.PROCESSING and document.attempts >= settings.RAG_MAX_ATTEMPTS:
            exhausted = True  # each earlier run was cut short (the worker died): not once more
        else:
            exhausted = False
            document.attempts += 1
            document.status = Document.Status.PROCESSING
            document.save(update_fields=["status", "attempts", "updated_at"])
    if exhausted:
        return _fail(document, f"Reading this file stopped the worker {document.attempts} times, so it is not "
                               "tried again. Check that the file opens, or split it, and upload it again.")
    try:
        with document.file.open("rb") as handle:
            data = handle.read()
        extracted = extract_upload(data, document.original_name.rsplit(".", 1)[-1].lower())
        specs = chunk_text(extracted, max_tokens=settings.RAG_CHUNK_TOKENS,
                           overlap_tokens=settings.RAG_CHUNK_OVERLAP_TOKENS)
        if not specs:
            raise ExtractionError("The document contains no readable text.")
    except (ExtractionError, OSError) as exc:
        return _fail(document, str(exc))

    embedder = get_embedder()
    vectors = []
    for start in range(0, len(specs), EMBED_BATCH):
        vectors.extend(embedder.embed([spec.text_for_embedding for spec in specs[start : start + EMBED_BATCH]]))

    with transaction.atomic():
        Chunk.objects.filter(document=document).delete()  # a retry after a crash starts clean
        Chunk.objects.bulk_create([
            Chunk(document=document, ordinal=spec.ordinal, text=spec.text, heading=spec.heading[:500],
                  char_start=spec.char_start, char_end=spec.char_end, page=spec.page,
                  token_count=spec.token_count, embedding=vector.tolist())
            for spec, vector in zip(specs, vectors)
        ], batch_size=500)
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE rag_chunk SET search_vector = setweight(to_tsvector('english', heading), 'B') || "
                "setweight(to_tsvector('english', text), 'A') WHERE document_id = %s", [document.id])
        Document.objects.filter(pk=document.pk).update(
            status=Document.Status.READY, failure_reason="", chunk_count=len(specs),
            page_count=extracted.page_count, processed_at=timezone.now(), updated_at=timezone.now())
        # Counted once per document: a retried ingest does not embed twice on the bill.
        usage_record(tenant=tenant, kind="embeddings", key=f"embeddings:{tenant.pk}:{document.pk}",
                     user_id=document.uploaded_by_id, quantity=len(specs),
                     data={"document_id": document.pk, "tokens": sum(spec.token_count for spec in specs)})
    document.refresh_from_db()
    logger.info("document %s ready: %d chunks", document.id, len(specs))
    return document


def _fail(document: Document, reason: str) -> Document:
    with transaction.atomic():
        Chunk.objects.filter(document=document).delete()
        Document.objects.filter(pk=document.pk).update(status=Document.Status.FAILED, failure_reason=reason,
                                                       chunk_count=0, updated_at=timezone.now())
    document.refresh_from_db()
    logger.warning("document %s failed: %s", document.id, reason)
    return document


def document_deletable_by(*, document: Document, user) -> bool:
    """Members delete what they uploaded; tenant admins (staff) delete anything."""
    return can_manage(user, owner_id=document.uploaded_by_id)


def document_delete(*, document_id: int, user=None) -> None:
    """Delete a document, its chunks and its file. `user` is who asks (the API, the pages,
    the tenant admin site), checked and audited; None is for the system."""
    tenant = current_tenant()
    document = Document.objects.filter(pk=document_id).first()
    if document is None:
        raise NotFound(f"There is no document {document_id}.")
    if user is not None and not document_deletable_by(document=document, user=user):
        raise Forbidden(f"{document.title!r} was uploaded by someone else; only they or a tenant admin "
                        "can delete it.", details={"document_id": document.id})
    stored = document.file.name
    with transaction.atomic():
        usage_record(tenant=tenant, kind="storage_removed", key=f"storage:{tenant.pk}:{document.pk}:removed",
                     user_id=getattr(user, "pk", None), quantity=document.size, data={"document_id": document.pk})
        audit_record(tenant=tenant, action="document_deleted", actor=user, target_kind="document",
                     target_id=document.pk, target_label=document.title)
        document.delete()  # its chunks go with it (CASCADE)
        transaction.on_commit(lambda: document.file.storage.delete(stored))
