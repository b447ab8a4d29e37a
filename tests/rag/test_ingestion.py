"""Upload and ingestion: every file type, dedupe, limits, corrupt and unsupported files, delete."""

import pytest
from django_tenants.utils import schema_context

from config.errors import LimitExceeded
from rag.extraction import UnsupportedFileType
from rag.models import Chunk, Document
from rag.services import DuplicateDocument, FileTooLarge, document_delete
from tenants.services import tenant_update_configuration
from tests.factories import make_document
from tests.rag.files import HTML, make_docx, make_pdf

pytestmark = pytest.mark.django_db

MARKDOWN = ("# Pharmacovigilance\n\nIndividual case safety reports for serious unexpected reactions are due "
            "within 15 calendar days.\n\n## Periodic reports\n\nThe PBRER summarises the benefit-risk balance.").encode()


@pytest.mark.parametrize(
    "name, data, phrase, pages",
    [
        ("guide.md", MARKDOWN, "15 calendar days", None),
        ("note.txt", b"Budget impact models use a three to five year horizon.", "five year horizon", None),
        ("tenders.html", HTML, "Hospital tenders in the Nordics", None),
        ("safety.pdf", make_pdf(["Signal detection uses disproportionality.", "REMS may require a medication guide."]),
         "medication guide", 2),
        ("deal.docx", make_docx([("Royalties", "Heading1"), ("Tiered royalties rise with net sales.", None)]),
         "Tiered royalties", None),
    ],
)
def test_each_file_type_becomes_searchable_chunks(alpha, media_root, name, data, phrase, pages):
    document = make_document(alpha, name, data)
    assert document.status == "ready" and document.failure_reason == ""
    assert document.page_count == pages
    with schema_context("alpha"):
        chunks = list(Chunk.objects.filter(document=document))
        assert len(chunks) == document.chunk_count >= 1
        assert any(phrase in chunk.text for chunk in chunks)
        if pages:
            assert {chunk.page for chunk in chunks} <= {1, 2}


def test_a_heading_path_is_kept_on_chunks(alpha, media_root):
    document = make_document(alpha, "guide.md", MARKDOWN)
    with schema_context("alpha"):
        headings = list(Chunk.objects.filter(document=document).values_list("heading", flat=True))
    assert "Pharmacovigilance › Periodic reports" in headings


def test_the_same_file_twice_is_reported_not_stored_twice(alpha, media_root):
    first = make_document(alpha, "guide.md", MARKDOWN)
    with pytest.raises(DuplicateDocument) as refused:
        make_document(alpha, "copy-of-guide.md", MARKDOWN)
    assert refused.value.details["document_id"] == first.id
    with schema_context("alpha"):
        assert Document.objects.count() == 1


def test_the_same_file_in_two_tenants_is_two_documents(alpha, beta, media_root):
    make_document(alpha, "guide.md", MARKDOWN)
    make_document(beta, "guide.md", MARKDOWN)
    for schema in ("alpha", "beta"):
        with schema_context(schema):
            assert Document.objects.count() == 1


def test_document_count_limit_is_429_and_writes_nothing(alpha, media_root):
    tenant_update_configuration(tenant=alpha, limits={"max_documents": 1})
    make_document(alpha, "one.txt", b"First document about HTA.")
    with pytest.raises(LimitExceeded) as refused:
        make_document(alpha, "two.txt", b"Second document about HTA.")
    assert refused.value.status_code == 429 and "allows 1 documents" in refused.value.message
    assert refused.value.details["limit"] == "max_documents"
    with schema_context("alpha"):
        assert Document.objects.count() == 1
    assert len(list(media_root.rglob("*.txt"))) == 1


def test_storage_limit_is_413(alpha, media_root):
    tenant_update_configuration(tenant=alpha, limits={"max_storage_mb": 0})
    with pytest.raises(FileTooLarge) as refused:
        make_document(alpha, "one.txt", b"Anything at all.")
    assert refused.value.status_code == 413 and "max_storage_mb" == refused.value.details["limit"]
    assert not list(media_root.rglob("*.txt"))


def test_a_corrupt_file_fails_with_the_reason_and_no_chunks(alpha, media_root):
    document = make_document(alpha, "broken.pdf", b"%PDF-1.4\n%%garbage that is not a pdf")
    assert document.status == "failed" and "could not be read" in document.failure_reason
    with schema_context("alpha"):
        assert not Chunk.objects.filter(document=document).exists()


def test_an_unsupported_type_is_refused_at_upload(alpha, media_root):
    with pytest.raises(UnsupportedFileType):
        make_document(alpha, "slides.pptx", b"PK\x03\x04")
    with schema_context("alpha"):
        assert not Document.objects.exists()


def test_delete_removes_the_document_its_chunks_and_its_file(alpha, media_root, django_capture_on_commit_callbacks):
    document = make_document(alpha, "guide.md", MARKDOWN)
    stored = list(media_root.rglob("*.md"))
    assert len(stored) == 1 and "tenants/alpha/documents" in str(stored[0])
    with schema_context("alpha"), django_capture_on_commit_callbacks(execute=True):
        document_delete(document_id=document.id)
        assert not Document.objects.exists() and not Chunk.objects.exists()
    assert not list(media_root.rglob("*.md"))


NOTE = b"# Device note\n\nThe De Novo pathway classifies low-risk novel devices into Class II."


def uploaded(tenant, name: str, data: bytes) -> Document:
    """Uploaded and not yet processed (as the worker finds it)."""
    from django.contrib.auth import get_user_model

    from rag.services import document_upload
    from tests.factories import make_user

    with schema_context(tenant.schema_name):
        user = get_user_model().objects.order_by("id").first() or make_user(tenant, "uploader")
        return document_upload(user=user, filename=name, data=data, enqueue=False)


def test_a_file_whose_processing_keeps_stopping_the_worker_fails_instead_of_looping(alpha, media_root, settings):
    """A lost worker's task is delivered again (acks late, rejected on worker loss); a file that
    takes the worker down every time would loop forever. Each run counts; a document still
    `processing` after RAG_MAX_ATTEMPTS runs that never finished fails with the reason."""
    from rag.services import document_process

    settings.RAG_MAX_ATTEMPTS = 3
    document = uploaded(alpha, "killer.md", NOTE)
    with schema_context("alpha"):
        # Three runs that started and never finished (the worker died in each).
        Document.objects.filter(pk=document.pk).update(status="processing", attempts=3)
        document = document_process(document_id=document.pk)
        assert document.status == "failed"
        assert "stopped the worker 3 times" in document.failure_reason and "upload it again" in document.failure_reason
        assert not Chunk.objects.filter(document=document).exists()


def test_runs_are_counted_and_a_run_that_finishes_before_the_limit_is_kept(alpha, media_root, settings):
    from rag.services import document_process

    settings.RAG_MAX_ATTEMPTS = 3
    document = uploaded(alpha, "survivor.md", NOTE)
    with schema_context("alpha"):
        Document.objects.filter(pk=document.pk).update(status="processing", attempts=2)  # two lost runs
        document = document_process(document_id=document.pk)
        assert (document.status, document.attempts) == ("ready", 3)
        assert Chunk.objects.filter(document=document).exists()
        fresh = uploaded(alpha, "fresh.md", NOTE + b" Fresh.")
        assert document_process(document_id=fresh.pk).attempts == 1
