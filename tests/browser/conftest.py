"""Browser tests: Playwright driving Debian's Chromium (never a downloaded browser) against
the real application served by a threaded WSGI server on 127.0.0.1, with tenant routing,
the test database and a real Celery worker.

The data is committed (the server's threads have their own connections): the package
makes its own tenants, acme and globex with the demo branding, and drops them at the end.
Panels call a local fake LLM endpoint through acme's own LLM settings, so a test can hold
the experts' answers back until the page is watching.

No browser: the tests skip with the reason, or fail when CI is set (.ci/run sets it).
ASKPANEL_SCREENSHOTS=1 saves PNGs of the main pages into docs/screenshots/.
"""

from __future__ import annotations

import os
import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django_tenants.utils import schema_context

from tests.conftest import BASE_DIR, tenant_domain
from tests.fakes.llm_server import FakeLLMServer, Reply
from tests.live_server import LiveServer

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SCREENSHOTS = BASE_DIR / "docs" / "screenshots"
PASSWORD = "browser-pass-1"
TIMEOUT_MS = 30_000  # every wait in a browser test; a panel in the worker takes a few seconds


def pytest_configure(config):
    config.addinivalue_line("markers", "browser: drives Chromium through Playwright against a live server")


def chromium_executable() -> str | None:
    """$CHROMIUM when set (a path that is not there counts as no browser), else Debian's."""
    if "CHROMIUM" in os.environ:
        path = os.environ["CHROMIUM"]
        return path if os.access(path, os.X_OK) else None
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _no_browser(reason: str):
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set, so the browser tests must run: install Debian's chromium)", pytrace=False)
    pytest.skip(reason)


# --- the browser ------------------------------------------------------------------


@pytest.fixture(scope="package")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _no_browser("the Python package playwright is not installed (pip install -r requirements.txt)")
    executable = chromium_executable()
    if executable is None:
        _no_browser("no Chromium found (apt-get install chromium); browser tests need it")
    # Playwright's sync API keeps an event loop running on this thread between calls,
    # which Django takes for an async context; the test code itself is plain sync code.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()
    finally:
        # While the loop runs, asgiref's Local gives this thread other database
        # connections than outside it: close them here, or the test database cannot be
        # dropped at the end of the session.
        from django.db import connections

        connections.close_all()
        playwright.stop()
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@dataclass
class Watched:
    """What a page did that a test may assert on: dialogs (alert/confirm/prompt) and
    uncaught script errors."""

    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@pytest.fixture
def context(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 860}, accept_downloads=True)
    context.set_default_timeout(TIMEOUT_MS)
    yield context
    context.close()


@pytest.fixture
def page(context):
    page = context.new_page()
    watched = Watched()

    def on_dialog(dialog):
        watched.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.accept()  # a confirmation the page asks for (cancel) goes ahead

    page.on("dialog", on_dialog)
    page.on("pageerror", lambda error: watched.errors.append(str(error)))
    page.watched = watched
    return page


def screenshot(page, name: str, *, full_page: bool = True) -> None:
    """docs/screenshots/<name>.png when ASKPANEL_SCREENSHOTS is set (the README's tour)."""
    if not os.environ.get("ASKPANEL_SCREENSHOTS"):
        return
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=full_page)


# --- the live server --------------------------------------------------------------


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


# --- a fake LLM endpoint the test can hold back --------------------------------------


class GatedLLMServer(FakeLLMServer):
    """The fake endpoint, with a gate: while held, chat answers wait (up to a minute)
    until the test lets some through (`allow(n)`) or opens it (`release()`), so a page is
    known to be watching before they land."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._gate = threading.Condition()
        self._allowance: int | None = None  # None: open

    def hold(self) -> None:
        with self._gate:
            self._allowance = 0

    def allow(self, answers: int) -> None:
        with self._gate:
            self._allowance = (self._allowance or 0) + answers
            self._gate.notify_all()

    def release(self) -> None:
        with self._gate:
            self._allowance = None
            self._gate.notify_all()

    def reset(self) -> None:
        """Open, with no scripted replies left over."""
        self.release()
        with self._lock:
            for replies in self._scripts.values():
                replies.clear()

    def _next(self, route: str) -> Reply:
        if route in ("chat", "messages"):
            with self._gate:
                self._gate.wait_for(lambda: self._allowance is None or self._allowance > 0, timeout=60)
                if self._allowance:
                    self._allowance -= 1
        return super()._next(route)


@pytest.fixture(scope="package")
def llm():
    with GatedLLMServer() as server:
        yield server
        server.release()


@pytest.fixture(autouse=True)
def _llm_reset(request):
    """A test that held the gate or scripted replies and failed leaves nothing behind."""
    yield
    if "llm" in request.fixturenames:
        request.getfixturevalue("llm").reset()


# --- the tenants ----------------------------------------------------------------------


@dataclass
class Site:
    schema_name: str
    tenant: object
    admin: object
    member: object
    server: LiveServer

    def url(self, path: str = "/") -> str:
        return self.server.url(self.schema_name, path)


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


def _make_site(schema_name: str, server: LiveServer, **overrides) -> Site:
    from config.demo import DEMO_TENANTS
    from tenants.services import tenant_create, tenant_user_ensure

    _drop_tenant(schema_name)  # left by an interrupted run
    spec = {**next(s for s in DEMO_TENANTS if s["schema_name"] == schema_name), **overrides}
    tenant = tenant_create(domain=tenant_domain(schema_name), **spec)
    admin = tenant_user_ensure(tenant=tenant, username="admin", password=PASSWORD, is_admin=True)
    member = tenant_user_ensure(tenant=tenant, username="member", password=PASSWORD, is_admin=False)
    return Site(schema_name, tenant, admin, member, server)


@pytest.fixture(scope="package")
def acme(web_server, llm):
    """Acme with the demo branding, every panel type, and its LLM at the fake endpoint."""
    site = _make_site(
        "acme", web_server, features={"hybrid": True},
        limits={"max_concurrent_panels": 20, "max_panels_per_month": 1000},
    )
    from tenants.services import tenant_update_configuration

    site.tenant.llm_api_key = "browser-test-key"
    tenant_update_configuration(
        tenant=site.tenant, llm={"provider": "openai", "model": "gpt-4o-mini", "base_url": llm.openai_base_url})
    yield site
    _drop_tenant("acme")


@pytest.fixture(scope="package")
def globex(web_server):
    site = _make_site("globex", web_server)
    yield site
    _drop_tenant("globex")


def sign_in(page, site: Site, user=None) -> None:
    """Sign in through the login page as the site's admin (or `user`)."""
    username = (user or site.admin).username
    response = page.goto(site.url("/accounts/login/"))
    assert response.ok, f"the sign-in page answered {response.status}: {page.inner_text('body')[:500]}"
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.press("input[name=password]", "Enter")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
