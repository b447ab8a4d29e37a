import pytest
from django_tenants.utils import schema_context

from rag.services import document_process, document_upload
from tests.conftest import make_user


def ingest(tenant, name: str, data: bytes, *, title: str = "", tags=None):
    """Upload and process inline (what the worker does), in the tenant's schema."""
    with schema_context(tenant.schema_name):
        from django.contrib.auth import get_user_model

        user = get_user_model().objects.order_by("id").first() or make_user(tenant, "uploader")
        document = document_upload(user=user, filename=name, data=data, title=title, tags=tags, enqueue=False)
        return document_process(document_id=document.id)
