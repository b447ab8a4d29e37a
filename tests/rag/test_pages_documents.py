"""Documents pages: list with live status, upload of several files, refusals with the
service's message, a document's chunks, search with escaped highlights, the cited passage,
and that nothing crosses tenants by host or id."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django_tenants.utils import schema_context

from rag.models import Chunk, Document
from rag.services import document_process, document_upload
from tenants.services import tenant_update_configuration
from tests.conftest import make_user, page_client, tenant_domain

pytestmark = pytest.mark.django_db

NOTE = b"Outcomes-based agreements tie the price of a therapy to real-world response rates."
HOSTILE = (b"Zebrafish launch sequencing: <script>alert('x')</script> and "
           b"<img src=x onerror=alert(1)> stay text, never markup.")


def ingest_as(tenant, user, name, data, **fields) -> Document:
    """Upload as `user` and process inline (what the worker does)."""
    with schema_context(tenant.schema_name):
        document = document_upload(user=user, filename=name, data=data, enqueue=False, **fields)
        return document_process(document_id=document.id)


def documents(tenant) -> list[Document]:
    with schema_context(tenant.schema_name):
        return list(Document.objects.order_by("id"))


@pytest.mark.parametrize("method, path", [
    ("get", "/documents/"), ("post", "/documents/"), ("get", "/documents/table/"), ("post", "/documents/upload/"),
    ("get", "/documents/search/?q=payer"), ("get", "/documents/1/"), ("get", "/documents/1/delete/"),
    ("post", "/documents/1/delete/"), ("get", "/passages/1/?q=payer"),
])
def test_every_page_sends_an_anonymous_visitor_to_sign_in(alpha, method, path):
    response = getattr(page_client(alpha), method)(path)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/?next=")


def test_the_pages_do_not_exist_on_the_platform_host(alpha):
    client = Client(HTTP_HOST="localhost")
    assert client.get("/documents/").status_code == 404
    assert client.get("/passages/1/").status_code == 404


def test_the_list_shows_status_failure_reason_and_labelled_inputs(alpha, member, media_root):
    ingest_as(alpha, member, "note.txt", NOTE, title="Payer deals")
    ingest_as(alpha, member, "broken.pdf", b"%PDF-1.4 garbage", title="Broken scan")
    response = page_client(alpha, member).get("/documents/")
    page = response.content.decode()
    assert response.status_code == 200
    assert re.search(r"<title>Documents · [^<]+</title>", page)
    assert "Payer deals" in page and "Broken scan" in page
    assert 'doc-status ready' in page and 'doc-status failed' in page and "could not be read" in page
    for field in ("upload-files", "upload-tags", "document-search-q"):
        assert f'for="{field}"' in page and f'id="{field}"' in page
    assert "askpanel/documents.js" in page


def test_several_files_upload_at_once_and_are_queued(alpha, member, media_root, django_capture_on_commit_callbacks):
    files = [SimpleUploadedFile("one.txt", NOTE), SimpleUploadedFile("two.md", b"# Tenders\n\nNordic tenders.")]
    with django_capture_on_commit_callbacks() as queued:
        response = page_client(alpha, member).post("/documents/", {"file": files, "tags": "Payers"})
    page = response.content.decode()
    assert response.status_code == 200
    assert page.count('data-outcome="accepted"') == 2 and "one.txt" in page and "two.md" in page
    stored = documents(alpha)
    assert [document.original_name for document in stored] == ["one.txt", "two.md"]
    assert all(document.status == "pending" and document.tags == ["payers"] for document in stored)
    assert all(document.uploaded_by_id == member.pk for document in stored)
    assert len(queued) == 2  # one ingestion task per file, sent once committed


def test_the_upload_fragment_answers_one_file_with_its_outcome(alpha, member, media_root):
    response = page_client(alpha, member).post("/documents/upload/", {"file": SimpleUploadedFile("one.txt", NOTE)})
    assert response.status_code == 202
    assert response.content.decode().strip().startswith('<li class="ok" data-outcome="accepted">')
    assert len(documents(alpha)) == 1


def refusal(alpha, client, path, name, data):
    response = client.post(path, {"file": SimpleUploadedFile(name, data)})
    return response.status_code, response.content.decode()


@pytest.mark.parametrize("path", ["/documents/", "/documents/upload/"])
def test_refusals_show_the_services_message_and_write_nothing(alpha, member, media_root, settings, path):
    client = page_client(alpha, member)

    status, page = refusal(alpha, client, path, "slides.pptx", b"PK\x03\x04")
    assert "is not a supported document; upload one of: .txt" in page and 'data-outcome="refused"' in page
    assert status == (415 if path.endswith("upload/") else 200)

    settings.RAG_MAX_FILE_MB = 0
    status, page = refusal(alpha, client, path, "big.txt", NOTE)
    assert "the largest file accepted is 0 MB" in page
    settings.RAG_MAX_FILE_MB = 25

    tenant_update_configuration(tenant=alpha, limits={"max_documents": 0})
    status, page = refusal(alpha, client, path, "note.txt", NOTE)
    assert "Your plan allows 0 documents and you have 0" in page
    assert documents(alpha) == []

    tenant_update_configuration(tenant=alpha, limits={"max_documents": 10})
    first = ingest_as(alpha, member, "note.txt", NOTE, title="Payer deals")
    status, page = refusal(alpha, client, path, "again.txt", NOTE)
    assert "This file was already uploaded as &#x27;Payer deals&#x27;" in page
    assert [document.id for document in documents(alpha)] == [first.id]


def test_posting_no_file_says_to_choose_one(alpha, member):
    response = page_client(alpha, member).post("/documents/", {"tags": "x"})
    assert "Choose at least one file to upload." in response.content.decode()
    assert documents(alpha) == []


def test_the_table_polls_while_a_document_is_not_final_and_stops_after(alpha, member, media_root):
    client = page_client(alpha, member)
    with schema_context("alpha"):
        pending = document_upload(user=member, filename="note.txt", data=NOTE, enqueue=False)
    fragment = client.get("/documents/table/").content.decode()
    assert fragment.lstrip().startswith('<div id="document-table"') and "<html" not in fragment
    assert "every 2s" in fragment and "doc-status pending" in fragment
    with schema_context("alpha"):
        document_process(document_id=pending.id)
    fragment = client.get("/documents/table/").content.decode()
    assert "every 2s" not in fragment and "doc-status ready" in fragment
    assert "documents-changed from:body" in fragment  # still refreshed after an upload


def test_a_documents_page_lists_its_chunks(alpha, member, media_root):
    text = ("# Pricing\n\n" + "Reference pricing compares list prices across countries. " * 60).encode()
    document = ingest_as(alpha, member, "pricing.md", text, title="Pricing guide")
    response = page_client(alpha, member).get(f"/documents/{document.id}/")
    page = response.content.decode()
    assert response.status_code == 200 and "<title>Pricing guide · Documents" in page
    with schema_context("alpha"):
        chunk_ids = list(Chunk.objects.filter(document=document).values_list("id", flat=True))
    assert len(chunk_ids) > 1
    for chunk_id in chunk_ids:
        assert f'id="chunk-{chunk_id}"' in page and f'href="/passages/{chunk_id}/"' in page
    assert "every 2s" not in page  # ready: no polling


def test_a_pending_documents_page_refreshes_itself(alpha, member, media_root):
    with schema_context("alpha"):
        document = document_upload(user=member, filename="note.txt", data=NOTE, enqueue=False)
    page = page_client(alpha, member).get(f"/documents/{document.id}/").content.decode()
    assert 'hx-trigger="every 2s"' in page and 'hx-select="#document-body"' in page


def test_another_tenants_ids_and_host_are_404(alpha, beta, member, media_root):
    document = ingest_as(alpha, member, "note.txt", HOSTILE, title="Alpha secret")
    with schema_context("alpha"):
        chunk = Chunk.objects.filter(document=document).first()
    stranger = page_client(beta, make_user(beta, "bob"))
    assert stranger.get(f"/documents/{document.id}/").status_code == 404
    assert stranger.get(f"/documents/{document.id}/delete/").status_code == 404
    assert stranger.post(f"/documents/{document.id}/delete/").status_code == 404
    assert stranger.get(f"/passages/{chunk.id}/").status_code == 404
    assert "Alpha secret" not in stranger.get("/documents/").content.decode()
    assert "Alpha secret" not in stranger.get("/documents/search/", {"q": "zebrafish launch"}).content.decode()
    # alice's session is for alpha only: on beta's host she is anonymous
    assert page_client(alpha, member, host=tenant_domain("beta")).get("/documents/").status_code == 302
    assert len(documents(alpha)) == 1
    assert page_client(alpha, member).get("/documents/999999/").status_code == 404


def test_search_highlights_the_words_and_escapes_the_documents_text(alpha, member, media_root):
    ingest_as(alpha, member, "hostile.txt", HOSTILE, title="Launch <b>plan</b>")
    response = page_client(alpha, member).get("/documents/search/", {"q": "zebrafish sequencing"})
    page = response.content.decode()
    assert response.status_code == 200
    assert "<mark>Zebrafish</mark>" in page and "<mark>sequencing</mark>" in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page and "<script>alert" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page and "<img src=x" not in page
    assert "Launch &lt;b&gt;plan&lt;/b&gt;" in page and "<b>plan</b>" not in page
    assert re.search(r'href="/passages/\d+/\?q=zebrafish%20sequencing"', page)


def test_search_asks_for_a_longer_query_and_says_when_nothing_matches(alpha, member, media_root):
    client = page_client(alpha, member)
    response = client.get("/documents/search/", {"q": "x"})
    assert response.status_code == 400 and "Type between 2 and 2,000 characters" in response.content.decode()
    assert "Nothing in your documents matches" in client.get("/documents/search/", {"q": "payers"}).content.decode()


def test_the_passage_page_shows_the_title_and_the_cited_words_escaped(alpha, member, media_root):
    document = ingest_as(alpha, member, "hostile.txt", HOSTILE, title="Launch notes")
    with schema_context("alpha"):
        chunk = Chunk.objects.get(document=document)
    response = page_client(alpha, member).get(f"/passages/{chunk.id}/", {"q": "zebrafish onerror"})
    page = response.content.decode()
    assert response.status_code == 200 and f"<title>Launch notes (C{chunk.id})" in page
    assert "<mark>Zebrafish</mark>" in page and "<mark>onerror</mark>" in page
    assert "&lt;script&gt;" in page and "<script>alert" not in page
    assert page_client(alpha, member).get("/passages/999999/").status_code == 404
