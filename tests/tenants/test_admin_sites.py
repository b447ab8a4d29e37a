"""The admin sites: a tenant admin sees the tenant's users, a platform admin the tenants.
(Branded pages and per-tenant templates: tests/tenants/test_pages_*.py.)"""

import pytest

from tests.conftest import api_client

pytestmark = pytest.mark.django_db


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
