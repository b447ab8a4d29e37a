"""A real Celery worker meets hostile documents (issue 18): each one fails its own document
with a reason, and the next, normal document is ingested by the same worker.

The worker runs with a small extraction budget (256 MB, 6 s) so that the files built to
exhaust memory or time reach it quickly; the bombs and the page count meet the defaults."""

import time
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tenants.utils import schema_context

from rag.models import Document
from tests.conftest import api_client, make_token, worker_on_own_queue
from tests.factories import make_user
from tests.rag.files import (
    make_flate_bomb_pdf,
    make_huge_paragraph_docx,
    make_many_pages_pdf,
    make_pdf,
    make_slow_pdf,
    make_zip_bomb_docx,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def hostile_worker(django_db_setup, django_db_blocker):
    """A worker of its own (one process), with a small extraction budget, on its own queue."""
    with worker_on_own_queue("hostile", django_db_blocker, concurrency=1,
                             extra_env={"RAG_EXTRACTION_MEMORY_MB": "256", "RAG_EXTRACTION_SECONDS": "6"}) as worker:
        yield worker


@pytest.fixture(scope="module")
def client(hostile_worker, django_db_blocker):
    from tenants.models import Tenant

    with django_db_blocker.unblock():
        alpha = Tenant.objects.get(schema_name="alpha")
        user = make_user(alpha, f"hostile-{uuid.uuid4().hex[:6]}")
        yield api_client(alpha, token=make_token(alpha, user))
        with schema_context("alpha"):
            for document in Document.objects.filter(uploaded_by=user):
                document.file.delete(save=False)
                document.delete()
            user.delete()


def ingested(client, name: str, data: bytes) -> dict:
    """Upload through the API and wait for the worker to make it ready or failed."""
    response = client.post("/api/v1/documents/", {"file": SimpleUploadedFile(name, data)}, format="multipart")
    assert response.status_code == 202, response.content
    document_id = response.json()["id"]
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        body = client.get(f"/api/v1/documents/{document_id}/").json()
        if body["status"] in ("ready", "failed"):
            return body
        time.sleep(0.3)
    raise AssertionError(f"document {document_id} still {body['status']} after 90 s")


HOSTILE = [  # (name, file, what the reason says)
    ("bomb.pdf", make_flate_bomb_pdf, "expands to more than 50 MB when decompressed"),
    ("pages.pdf", lambda: make_many_pages_pdf(10_000), "The PDF has 10,000 pages; at most 2,000 pages are read"),
    ("bomb.docx", make_zip_bomb_docx, "expands to more than 50 MB when unzipped"),
    ("greedy.docx", make_huge_paragraph_docx, "needed more than 256 MB of memory, so it was stopped"),
    ("slow.pdf", make_slow_pdf, "6 s"),
]


@pytest.mark.parametrize("name, make, reason", HOSTILE, ids=[name for name, _, _ in HOSTILE])
def test_a_hostile_file_fails_alone_and_the_worker_ingests_the_next_document(
        hostile_worker, client, name, make, reason):
    failed = ingested(client, name, make())
    assert failed["status"] == "failed" and reason in failed["failure_reason"], failed["failure_reason"]
    assert failed["chunk_count"] == 0

    mark = uuid.uuid4().hex  # a new file each time (the same file twice is refused as a duplicate)
    normal = ingested(client, "after.pdf", make_pdf([f"Managed entry agreements after {name}, ref {mark}."]))
    assert normal["status"] == "ready" and normal["chunk_count"] >= 1 and normal["page_count"] == 1
    assert hostile_worker.process.poll() is None  # the same worker, still running
