"""Per-tenant templates: globex's own base layout and dashboard (templates/tenants/globex/),
found first by django-tenants' loader, used for globex only."""

import pytest

from tests.conftest import api_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo():
    """The two demo tenants with their branding and users (seed_demo without its documents)."""
    from config.demo import DEMO_TENANTS
    from tenants.services import tenant_create, tenant_user_ensure

    for spec in DEMO_TENANTS:
        tenant = tenant_create(domain=f"{spec['schema_name']}.localhost", **spec)
        tenant_user_ensure(tenant=tenant, username="admin", password="askpanel-demo", is_admin=True)


def signed_in(host):
    client = api_client(host=host)
    assert client.post("/accounts/login/", {"username": "admin", "password": "askpanel-demo"}).status_code == 302
    return client


def test_globex_pages_use_its_own_base_layout(demo, alpha):
    globex = api_client(host="globex.localhost").get("/accounts/login/").content.decode()
    acme = api_client(host="acme.localhost").get("/accounts/login/").content.decode()
    alpha_page = api_client(alpha).get("/accounts/login/").content.decode()
    assert 'data-template="globex-base"' in globex and 'class="layout-sidebar"' in globex
    assert "tenants/globex.css" in globex
    assert "Sign in to Globex Health" in globex  # the shared page, inside globex's layout
    for page in (acme, alpha_page):
        assert 'data-template="globex-base"' not in page and 'class="layout-top"' in page


def test_globex_dashboard_is_its_expert_desk(demo):
    globex = signed_in("globex.localhost").get("/")
    acme = signed_in("acme.localhost").get("/")
    assert globex.status_code == acme.status_code == 200
    assert 'data-template="globex-dashboard"' in globex.content.decode()
    assert "Globex Health Expert Desk" in globex.content.decode()
    assert 'data-template="globex-dashboard"' not in acme.content.decode()
    assert "Acme Therapeutics" in acme.content.decode()


def test_globex_settings_pages_share_the_globex_layout(demo):
    page = signed_in("globex.localhost").get("/settings/branding/").content.decode()
    assert 'data-template="globex-base"' in page
    assert "<h2 id=\"branding-title\">Branding</h2>" in page
