"""A document uploaded through the API is ingested by a real Celery worker in its tenant."""

import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tenants.utils import schema_context

from rag.models import Document
from tests.conftest import api_client, make_token
from tests.factories import make_user

pytestmark = pytest.mark.slow


def test_upload_then_the_worker_makes_it_ready(celery_worker, django_db_blocker, settings, tmp_path):
    from tenants.models import Tenant

    with django_db_blocker.unblock():
        alpha = Tenant.objects.get(schema_name="alpha")
        user = make_user(alpha, "worker-uploader")
        client = api_client(alpha, token=make_token(alpha, user))
        try:
            response = client.post("/api/v1/documents/", {"file": SimpleUploadedFile(
                "rwe.md", b"# RWE\n\nTarget trial emulation states the protocol of the trial it imitates.")},
                format="multipart")
            assert response.status_code == 202
            document_id = response.json()["id"]
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                status = client.get(f"/api/v1/documents/{document_id}/").json()["status"]
                if status in ("ready", "failed"):
                    break
                time.sleep(0.3)
            assert status == "ready"
            hits = client.get("/api/v1/search/", {"q": "target trial emulation"}).json()["results"]
            assert hits and hits[0]["document_id"] == document_id
        finally:
            with schema_context("alpha"):
                for document in Document.objects.all():
                    document.file.delete(save=False)
                    document.delete()
                user.delete()
