"""Shared fixtures: the real Postgres and Redis the launcher started (or DATABASE_URL /
REDIS_URL), a public tenant and two test tenants created once per session."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.db import connection
from django.test import override_settings
from django_tenants.utils import schema_context
from rest_framework.test import APIClient

from config.embedded import die_with_parent
from tests.factories import make_user  # noqa: F401  (tests import it from here too)
from tests.fakes.llm_server import FakeLLMServer

BASE_DIR = Path(__file__).resolve().parent.parent
TEST_TENANTS = {
    "alpha": {"name": "Alpha Pharma", "tier": "professional"},
    "beta": {"name": "Beta Devices", "tier": "starter"},
}


def tenant_domain(schema_name: str) -> str:
    return f"{schema_name}.{settings.BASE_DOMAIN}"


@pytest.fixture(scope="session")
def django_db_setup(request, django_test_environment, django_db_blocker, django_db_modify_db_settings):
    """The test database, migrated, with the public tenant and the test tenants. Always
    set up (pytest-django's own only does it for `db`-marked tests; worker tests need
    committed data and so do not use that mark)."""
    from django.test.utils import setup_databases, teardown_databases

    from tenants.billing.services import prices_load
    from tenants.models import Tenant
    from tenants.services import public_tenant_ensure, tenant_create

    with django_db_blocker.unblock():
        databases = setup_databases(verbosity=request.config.option.verbose, interactive=False, aliases={"default"})
        public_tenant_ensure(domain=settings.BASE_DOMAIN)
        prices_load()  # as `make run` does
        for schema_name, spec in TEST_TENANTS.items():
            if not Tenant.objects.filter(schema_name=schema_name).exists():
                tenant_create(schema_name=schema_name, domain=tenant_domain(schema_name), **spec)
    yield
    with django_db_blocker.unblock():
        teardown_databases(databases, verbosity=request.config.option.verbose)


@contextmanager
def media_root_at(path):
    """Uploaded files go to `path` (the tenant file storage caches its root, so reset it)."""
    from rag.models import Document

    storage = Document._meta.get_field("file").storage
    previous = settings.MEDIA_ROOT
    settings.MEDIA_ROOT = path
    storage.__dict__.pop("relative_media_root", None)
    try:
        yield path
    finally:
        settings.MEDIA_ROOT = previous
        storage.__dict__.pop("relative_media_root", None)


@pytest.fixture
def media_root(tmp_path):
    with media_root_at(tmp_path) as path:
        yield path


class FewerRoundsPBKDF2PasswordHasher(PBKDF2PasswordHasher):
    """Django's PBKDF2 with 1,000 rounds instead of 1,000,000 (half a second a password here,
    and the suite makes hundreds of users). The rounds are written into each hash, so the
    web servers and workers the tests start check these passwords with Django's own hasher."""

    iterations = 1_000


@pytest.fixture(scope="session", autouse=True)
def _quick_password_hashing():
    with override_settings(PASSWORD_HASHERS=[
            "tests.conftest.FewerRoundsPBKDF2PasswordHasher", *settings.PASSWORD_HASHERS]):
        yield


@pytest.fixture(autouse=True)
def _back_to_public():
    """Every test starts and ends in the public schema (django-tenants #603, #1142), and
    routing forgets what it cached and failed sign-ins are forgotten: the database rolls
    back, Redis does not."""
    from django.core.cache import cache

    from tenants.selectors import routing_cache_clear

    connection.set_schema_to_public()
    yield
    connection.set_schema_to_public()
    routing_cache_clear()
    client = cache._cache.get_client(write=True)
    stale = list(client.scan_iter(match="*signin-failures*", count=500))
    if stale:
        client.delete(*stale)


@pytest.fixture
def alpha(db):
    from tenants.models import Tenant

    return Tenant.objects.get(schema_name="alpha")


@pytest.fixture
def beta(db):
    from tenants.models import Tenant

    return Tenant.objects.get(schema_name="beta")


def make_token(tenant, user) -> str:
    from rest_framework.authtoken.models import Token

    with schema_context(tenant.schema_name):
        return Token.objects.create(user=user).key


def api_client(tenant=None, *, token: str | None = None, host: str | None = None, **headers) -> APIClient:
    """An API client on a tenant's host (or any host), optionally with a token."""
    host = host or (tenant_domain(tenant.schema_name) if tenant is not None else settings.BASE_DOMAIN)
    defaults = {"HTTP_HOST": host, **headers}
    if token:
        defaults["HTTP_AUTHORIZATION"] = f"Token {token}"
    return APIClient(**defaults)


def page_client(tenant, user=None, *, host: str | None = None, **headers):
    """A browser-like client on a tenant's host (or `host`), signed in as `user` if given."""
    from django.test import Client

    client = Client(HTTP_HOST=host or tenant_domain(tenant.schema_name), **headers)
    if user is not None:
        with schema_context(tenant.schema_name):
            client.force_login(user)
    return client


@pytest.fixture
def member(alpha):
    """A member of alpha (not a tenant admin)."""
    return make_user(alpha, "member")


@pytest.fixture
def admin(alpha):
    """A tenant admin of alpha."""
    return make_user(alpha, "boss", is_admin=True)


@pytest.fixture
def alpha_user(alpha):
    return make_user(alpha, "alice")


@pytest.fixture
def beta_user(beta):
    return make_user(beta, "bob")


@pytest.fixture
def alpha_api(alpha, alpha_user):
    return api_client(alpha, token=make_token(alpha, alpha_user))


@pytest.fixture
def beta_api(beta, beta_user):
    return api_client(beta, token=make_token(beta, beta_user))


# --- A real Celery worker in a subprocess, on the test database ---------------------


def test_database_url() -> str:
    """DATABASE_URL of the test database pytest-django created, for subprocesses."""
    params = connection.settings_dict
    host = params.get("HOST") or params.get("OPTIONS", {}).get("host") or ""
    port = f":{params['PORT']}" if params.get("PORT") else ""
    password = params.get("PASSWORD") or ""
    if host.startswith("/"):
        return f"postgresql://{params['USER']}:{password}@/{params['NAME']}?host={host}"
    return f"postgresql://{params['USER']}:{password}@{host}{port}/{params['NAME']}"


class WorkerProcess:
    """`celery worker` on its own queue against the test database."""

    def __init__(self, queue: str, concurrency: int = 2, extra_env: dict | None = None):
        self.queue = queue
        env = os.environ.copy()
        env.update(
            {
                "DATABASE_URL": test_database_url(),
                "CELERY_QUEUE": queue,
                "ASKPANEL_TESTING": "1",
                **(extra_env or {}),
            }
        )
        self.log_path = BASE_DIR / ".data" / f"worker-{queue}.log"
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", queue, "-c", str(concurrency),
             "-l", "INFO", "-n", f"{queue}@%h", "--without-gossip", "--without-mingle"],
            cwd=BASE_DIR, env=env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True,
            preexec_fn=die_with_parent,  # noqa: PLW1509 (only prctl) an interrupted run leaves no worker behind
        )
        self._wait_ready()

    def _wait_ready(self, timeout: float = 60) -> None:
        from config.celery import app

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"worker exited early:\n{self.log_path.read_text()[-3000:]}")
            if app.control.ping(destination=[f"{self.queue}@{os.uname().nodename}"], timeout=0.5):
                return
        raise RuntimeError(f"worker not ready in {timeout}s:\n{self.log_path.read_text()[-3000:]}")

    def stop(self, sig=15) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, sig)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, 9)
                self.process.wait()
        self._log.close()


@contextmanager
def worker_on_own_queue(name: str, django_db_blocker, **options):
    """A real worker process on a queue of its own, where the tasks this process enqueues go
    until the block ends; then the worker stops."""
    from config.celery import app

    queue = f"{name}-{uuid.uuid4().hex[:8]}"
    with django_db_blocker.unblock():
        worker = WorkerProcess(queue, **options)
    previous = app.conf.task_default_queue
    app.conf.task_default_queue = queue
    try:
        yield worker
    finally:
        app.conf.task_default_queue = previous
        worker.stop()


@pytest.fixture(scope="session")
def celery_worker(django_db_setup, django_db_blocker):
    """A real worker process for the session; tasks are routed to its private queue."""
    with worker_on_own_queue("test", django_db_blocker) as worker:
        yield worker


@pytest.fixture(scope="session")
def catalog(django_db_setup, django_db_blocker):
    """The real agent catalog, loaded once for the session."""
    from agents.services import agents_load

    with django_db_blocker.unblock():
        agents_load()


@pytest.fixture
def llm_server():
    """A local HTTP server on 127.0.0.1 that speaks the OpenAI and Anthropic protocols."""
    with FakeLLMServer() as server:
        yield server
