"""Documents and search over the API, and that nothing crosses tenants by host, header or id."""


import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tenants.utils import schema_context

from rag.models import Document
from tests.conftest import api_client, make_token
from tests.factories import make_document, make_user

pytestmark = pytest.mark.django_db
NOTE = b"Outcomes-based agreements tie the price of a therapy to real-world response rates."


def upload(client, name="note.txt", data=NOTE, **fields):
    return client.post("/api/v1/documents/", {"file": SimpleUploadedFile(name, data), **fields}, format="multipart")


def test_upload_is_accepted_and_queued(alpha_api, media_root, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as queued:
        response = upload(alpha_api, title="Payer deals", tags="payers, Pricing")
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "pending" and body["title"] == "Payer deals" and body["tags"] == ["payers", "pricing"]
    assert len(queued) == 1  # the ingestion task, sent once the upload is committed


def test_list_detail_and_delete(alpha, alpha_api, media_root):
    document = make_document(alpha, "note.txt", NOTE, title="Payer deals")
    listing = alpha_api.get("/api/v1/documents/").json()
    assert listing["count"] == 1 and listing["results"][0]["status"] == "ready"
    detail = alpha_api.get(f"/api/v1/documents/{document.id}/").json()
    assert detail["chunk_count"] >= 1 and detail["failure_reason"] == ""
    assert alpha_api.delete(f"/api/v1/documents/{document.id}/").status_code == 204
    assert alpha_api.get(f"/api/v1/documents/{document.id}/").status_code == 404


def test_a_failed_document_shows_why(alpha, alpha_api, media_root):
    document = make_document(alpha, "broken.pdf", b"%PDF-1.4 garbage")
    body = alpha_api.get(f"/api/v1/documents/{document.id}/").json()
    assert body["status"] == "failed" and "could not be read" in body["failure_reason"]


@pytest.mark.parametrize(
    "name, data, status, code",
    [
        ("slides.pptx", b"PK\x03\x04", 415, "unsupported_file_type"),
        ("empty.txt", b"", 400, "empty_file"),
    ],
)
def test_bad_uploads_are_refused_with_the_error_shape(alpha_api, media_root, name, data, status, code):
    response = upload(alpha_api, name, data)
    assert response.status_code == status and response.json()["error"]["code"] == code
    with schema_context("alpha"):
        assert not Document.objects.exists()


def test_missing_file_is_400_naming_the_field(alpha_api):
    response = alpha_api.post("/api/v1/documents/", {"title": "x"}, format="multipart")
    assert response.status_code == 400 and "file" in response.json()["error"]["details"]["fields"]


def test_duplicate_is_409_with_the_existing_document(alpha, alpha_api, media_root):
    first = make_document(alpha, "note.txt", NOTE)
    response = upload(alpha_api, "again.txt", NOTE)
    assert response.status_code == 409 and response.json()["error"]["details"]["document_id"] == first.id


def test_limits_are_429_and_413(alpha, alpha_api, media_root):
    from tenants.services import tenant_update_configuration

    tenant_update_configuration(tenant=alpha, limits={"max_documents": 0})
    assert upload(alpha_api).status_code == 429
    tenant_update_configuration(tenant=alpha, limits={"max_documents": 10, "max_storage_mb": 0})
    response = upload(alpha_api)
    assert response.status_code == 413 and response.json()["error"]["details"]["limit"] == "max_storage_mb"


def test_search_endpoint(alpha, alpha_api, media_root):
    make_document(alpha, "note.txt", NOTE, title="Payer deals")
    body = alpha_api.get("/api/v1/search/", {"q": "outcomes-based agreements", "k": 3}).json()
    assert body["results"][0]["document_title"] == "Payer deals"
    assert {"chunk_id", "citation", "document_id", "text", "page", "char_start", "char_end", "score"} <= set(body["results"][0])
    assert body["search_id"]
    assert alpha_api.get("/api/v1/search/", {"q": "x"}).status_code == 400
    assert alpha_api.get("/api/v1/search/", {"q": "payer", "k": 500}).status_code == 400


def test_another_tenants_documents_are_invisible_by_host_header_and_id(alpha, beta, alpha_api, beta_api, beta_user, media_root):
    secret = make_document(alpha, "secret.txt", b"Alpha's confidential launch sequencing for the zebrafish programme.")
    assert beta_api.get("/api/v1/documents/").json()["count"] == 0
    assert beta_api.get(f"/api/v1/documents/{secret.id}/").status_code == 404
    assert beta_api.delete(f"/api/v1/documents/{secret.id}/").status_code == 404
    assert beta_api.get("/api/v1/search/", {"q": "zebrafish launch sequencing"}).json()["results"] == []
    via_header = api_client(token=make_token(beta, make_user(beta, "beta-header")), HTTP_X_TENANT_ID="beta")
    assert via_header.get(f"/api/v1/documents/{secret.id}/").status_code == 404
    assert via_header.get("/api/v1/search/", {"q": "zebrafish"}).json()["results"] == []
    with schema_context("alpha"):
        assert Document.objects.filter(pk=secret.id).exists()


def test_an_upload_through_the_header_lands_in_that_tenant_only(alpha, beta, media_root):
    client = api_client(token=make_token(beta, make_user(beta, "beta-up")), HTTP_X_TENANT_ID="beta")
    assert upload(client).status_code == 202
    with schema_context("beta"):
        assert Document.objects.count() == 1
    with schema_context("alpha"):
        assert Document.objects.count() == 0


@pytest.mark.parametrize("method, path", [("get", "/api/v1/documents/"), ("get", "/api/v1/documents/1/"),
                                          ("delete", "/api/v1/documents/1/"), ("get", "/api/v1/search/?q=hta")])
def test_documents_endpoints_require_authentication(alpha, method, path):
    assert getattr(api_client(alpha), method)(path).status_code == 401
