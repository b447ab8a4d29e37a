"""The API as its clients meet it: the served OpenAPI schema and the application on a real
port (tests/live_server.py), with a committed tenant of its own, a user with a password
and a real Celery worker behind it. The tenant is dropped at the end of the package."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass

import pytest
from django.conf import settings
from django_tenants.utils import schema_context

from tests.factories import make_tenant, make_user
from tests.live_server import LiveServer

PASSWORD = "api-pass-1"


@pytest.fixture(scope="package")
def committed(django_db_setup, django_db_blocker):
    """The server's threads and this process share committed data for the package."""
    with django_db_blocker.unblock():
        yield


@pytest.fixture(scope="package")
def web_server(committed):
    server = LiveServer()
    yield server
    server.stop()


@dataclass
class ApiSite:
    """A tenant served on the live server, and how a client outside the process reaches it."""

    server: LiveServer
    tenant: object
    user: object
    password: str

    @property
    def schema_name(self) -> str:
        return self.tenant.schema_name

    @property
    def username(self) -> str:
        return self.user.username

    @property
    def origin(self) -> str:
        return self.server.origin

    @property
    def host(self) -> str:
        """`Host: <tenant>.localhost:PORT`, sent to 127.0.0.1:PORT."""
        return self.server.host(self.schema_name)

    @property
    def schema_url(self) -> str:
        """The served schema, on the platform host (`localhost` resolves everywhere)."""
        return f"http://{settings.BASE_DOMAIN}:{self.server.port}/api/v1/schema/?format=json"


def _drop_tenant(schema_name: str) -> None:
    from rag.models import Document
    from tenants.models import Tenant

    tenant = Tenant.objects.filter(schema_name=schema_name).first()
    if tenant is None:
        return
    with schema_context(schema_name):
        for document in Document.objects.all():
            document.file.delete(save=False)
    tenant.delete(force_drop=True)


@contextmanager
def tenant_site(server: LiveServer, schema_name: str, *, username: str, is_admin: bool = False,
                limits: dict | None = None):
    """An enterprise tenant (every panel type, the API on) with one user, committed, and
    dropped (with its files) at the end."""
    _drop_tenant(schema_name)  # left by an interrupted run
    tenant = make_tenant(schema_name, name=schema_name.title(), tier="enterprise", limits=limits)
    user = make_user(tenant, username, password=PASSWORD, is_admin=is_admin)
    try:
        yield ApiSite(server, tenant, user, PASSWORD)
    finally:
        _drop_tenant(schema_name)


@pytest.fixture(scope="package")
def api_site(web_server, catalog):
    with tenant_site(web_server, "apiproof", username="api-user") as site:
        yield site
