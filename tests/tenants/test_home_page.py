"""Each tenant's home page is branded, through django-tenants' template loader."""

import pytest

from tests.conftest import api_client

pytestmark = pytest.mark.django_db


def test_home_page_shows_the_tenants_name_and_colours(alpha):
    from tenants.services import tenant_update_configuration

    tenant_update_configuration(
        tenant=alpha,
        branding={"display_name": "Alpha Pharma Labs", "primary_color": "#abcdef", "logo_url": "/static/a.svg"},
    )
    page = api_client(alpha).get("/").content.decode()
    assert "Alpha Pharma Labs" in page
    assert "--primary: #abcdef" in page
    assert 'src="/static/a.svg"' in page


def test_per_tenant_template_override_is_used_only_for_that_tenant(alpha):
    from django.core.management import call_command

    call_command("seed_demo")
    globex_page = api_client(host="globex.localhost").get("/").content.decode()
    acme_page = api_client(host="acme.localhost").get("/").content.decode()
    alpha_page = api_client(alpha).get("/").content.decode()
    assert 'data-template="globex-home"' in globex_page
    assert "Globex Health Expert Desk" in globex_page
    assert 'data-template="globex-home"' not in acme_page
    assert "Acme Therapeutics" in acme_page
    assert 'data-template="globex-home"' not in alpha_page


def test_tenant_admin_shows_users_but_never_the_tenant_registry(alpha):
    from tests.conftest import make_user

    make_user(alpha, "boss", password="boss-pass-123", is_admin=True)
    client = api_client(alpha)
    client.post("/accounts/login/", {"username": "boss", "password": "boss-pass-123"})
    index = client.get("/admin/")
    assert index.status_code == 200
    assert b"/admin/auth/user/" in index.content
    assert b"/admin/tenants/" not in index.content
    assert client.get("/admin/tenants/tenant/").status_code == 404


def test_platform_admin_manages_tenants():
    from django.contrib.auth import get_user_model

    get_user_model().objects.create_superuser("root", "root@example.com", "root-pass-123")
    client = api_client()
    client.post("/admin/login/?next=/admin/", {"username": "root", "password": "root-pass-123"})
    listing = client.get("/admin/tenants/tenant/")
    assert listing.status_code == 200
    assert b"Alpha Pharma" in listing.content
