"""Test data made the way the app makes it (through its services), so a test states only
what matters to it. Plain functions; each one works in the tenant it is given."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django_tenants.utils import schema_context

QUESTION = "Should we file a De Novo or a 510(k) for our AI-based ECG arrhythmia detection software?"


def make_tenant(schema_name: str, *, name: str = "", **options):
    """A tenant with its schema migrated, at `<schema>.<BASE_DOMAIN>`."""
    from tenants.services import tenant_create

    return tenant_create(name=name or schema_name.title(), schema_name=schema_name,
                         domain=f"{schema_name}.{settings.BASE_DOMAIN}", **options)


def make_user(tenant, username: str = "user", password: str = "secret-pass-1", is_admin: bool = False):
    """A user of the tenant (a tenant admin with is_admin)."""
    with schema_context(tenant.schema_name):
        user_model = get_user_model()
        if is_admin:
            return user_model.objects.create_superuser(username, f"{username}@example.com", password)
        return user_model.objects.create_user(username, f"{username}@example.com", password)


def make_panel(tenant, user, *, query: str = QUESTION, panel_type: str = "structured", **options):
    """A queued panel as the API makes it (experts picked by ranking unless given), not run."""
    from panels.services import panel_create

    with schema_context(tenant.schema_name):
        return panel_create(user=user, query=query, panel_type=panel_type, enqueue=False, **options)


def make_document(tenant, name: str, data: bytes, *, title: str = "", tags=None, user=None):
    """An uploaded document, processed in this process (what the worker does): ready, or
    failed with its reason. Uploaded by `user`, else the tenant's first user."""
    from rag.services import document_process, document_upload

    with schema_context(tenant.schema_name):
        user = user or get_user_model().objects.order_by("id").first() or make_user(tenant, "uploader")
        document = document_upload(user=user, filename=name, data=data, title=title, tags=tags, enqueue=False)
        return document_process(document_id=document.id)
