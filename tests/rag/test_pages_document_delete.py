"""Who may delete a document, on the pages and through the API (one rule, in
rag.services): members delete what they uploaded, tenant admins anything."""

import pytest
from django_tenants.utils import schema_context

from rag.models import Document
from tests.conftest import api_client, make_token, make_user
from tests.conftest import page_client
from tests.rag.test_pages_documents import NOTE, ingest_as

pytestmark = pytest.mark.django_db


@pytest.fixture
def users(alpha):
    return {"owner": make_user(alpha, "owner"), "other": make_user(alpha, "other"),
            "admin": make_user(alpha, "boss", is_admin=True)}


def exists(document) -> bool:
    with schema_context("alpha"):
        return Document.objects.filter(pk=document.pk).exists()


def test_a_member_deletes_their_own_upload_after_confirming(alpha, users, media_root):
    document = ingest_as(alpha, users["owner"], "note.txt", NOTE, title="Payer deals")
    client = page_client(alpha, users["owner"])
    listing = client.get("/documents/").content.decode()
    assert f'href="/documents/{document.id}/delete/"' in listing
    confirm = client.get(f"/documents/{document.id}/delete/")
    assert confirm.status_code == 200 and "Delete <strong>Payer deals</strong>" in confirm.content.decode()
    assert exists(document)  # asking is not deleting
    response = client.post(f"/documents/{document.id}/delete/")
    assert response.status_code == 302 and response["Location"] == "/documents/"
    assert not exists(document)


def test_a_member_cannot_delete_someone_elses_upload(alpha, users, media_root):
    document = ingest_as(alpha, users["owner"], "note.txt", NOTE, title="Payer deals")
    client = page_client(alpha, users["other"])
    assert f'href="/documents/{document.id}/delete/"' not in client.get("/documents/").content.decode()
    assert "Delete this document" not in client.get(f"/documents/{document.id}/").content.decode()
    assert client.get(f"/documents/{document.id}/delete/").status_code == 403
    response = client.post(f"/documents/{document.id}/delete/")
    assert response.status_code == 403
    assert "was uploaded by someone else; only they or a tenant admin can delete it" in response.content.decode()
    assert exists(document)


def test_a_tenant_admin_deletes_anyones_upload(alpha, users, media_root):
    document = ingest_as(alpha, users["owner"], "note.txt", NOTE)
    client = page_client(alpha, users["admin"])
    assert f'href="/documents/{document.id}/delete/"' in client.get("/documents/").content.decode()
    assert client.post(f"/documents/{document.id}/delete/").status_code == 302
    assert not exists(document)


def test_the_api_applies_the_same_rule(alpha, users, media_root):
    document = ingest_as(alpha, users["owner"], "note.txt", NOTE)
    other = api_client(alpha, token=make_token(alpha, users["other"]))
    response = other.delete(f"/api/v1/documents/{document.id}/")
    assert response.status_code == 403 and response.json()["error"]["code"] == "forbidden"
    assert "only they or a tenant admin can delete it" in response.json()["error"]["message"]
    assert exists(document)
    admin = api_client(alpha, token=make_token(alpha, users["admin"]))
    assert admin.delete(f"/api/v1/documents/{document.id}/").status_code == 204
    assert not exists(document)
    mine = ingest_as(alpha, users["owner"], "mine.txt", b"Tiered royalties rise with net sales.")
    owner = api_client(alpha, token=make_token(alpha, users["owner"]))
    assert owner.delete(f"/api/v1/documents/{mine.id}/").status_code == 204
