"""The platform admin's "Usage across tenants": top tenants by cost, tenants near or over a
budget, each tenant's statement, and one CSV of every tenant's month."""

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model

from tenants.billing.services import usage_record
from tenants.billing.statements import month_of
from tests.conftest import api_client, make_user, page_client

pytestmark = pytest.mark.django_db
PAGE = "/admin/billing/statement/across-tenants/"


@pytest.fixture
def platform_admin():
    get_user_model().objects.create_superuser("root", "root@example.com", "root-pass-123")
    client = api_client()
    client.post("/admin/login/?next=/admin/", {"username": "root", "password": "root-pass-123"})
    return client


def spend(tenant, tokens, cost, key):
    usage_record(tenant=tenant, kind="llm_call", key=key, model="gpt-4o-mini", input_tokens=tokens,
                 cost=Decimal(cost))


def test_top_tenants_by_cost_and_those_near_their_limits(alpha, beta, platform_admin):
    spend(alpha, 100, "1.50", "a")
    spend(beta, beta.configuration.limits.monthly_token_budget, "0.10", "b")  # beta's token budget is used up
    page = platform_admin.get(PAGE)
    text = page.content.decode()
    assert page.status_code == 200
    top = text[text.index('id="top-tenants"'):text.index('id="near-limits"')]
    assert top.index('data-tenant="alpha"') < top.index('data-tenant="beta"')
    near = text[text.index('id="near-limits"'):]
    assert 'data-tenant="beta"' in near and "over (hard limit)" in near and 'data-tenant="alpha"' not in near
    assert f"/admin/billing/statement/tenant/alpha/{month_of():%Y-%m}.csv" in text


def test_a_tenants_statement_and_the_csv_of_all_tenants(alpha, beta, platform_admin):
    spend(alpha, 1234, "1.50", "a")
    spend(beta, 5678, "0.10", "b")
    month = f"{month_of():%Y-%m}"
    statement = platform_admin.get(f"/admin/billing/statement/tenant/alpha/{month}.csv").content.decode()
    assert "1234" in statement and "5678" not in statement
    assert platform_admin.get(f"/admin/billing/statement/tenant/beta/{month}.pdf").content.startswith(b"%PDF")
    assert platform_admin.get(f"/admin/billing/statement/tenant/nobody/{month}.csv").status_code == 404
    everyone = platform_admin.get(f"/admin/billing/statement/across-tenants/{month}.csv").content.decode()
    assert "alpha,Alpha Pharma" in everyone and "beta,Beta Devices" in everyone and "1234" in everyone


def test_linked_from_the_billing_app_and_the_statements_list(platform_admin):
    assert PAGE.encode() in platform_admin.get("/admin/billing/").content
    assert PAGE.encode() in platform_admin.get("/admin/billing/statement/").content


def test_only_platform_admins_on_the_platform_host(alpha, admin):
    assert api_client().get(PAGE).status_code == 302  # to the platform admin's sign-in
    assert page_client(alpha, admin).get(PAGE).status_code == 404  # a tenant admin's host has no such page
    staff = get_user_model().objects.create_user("clerk", "c@example.com", "clerk-pass-123")
    client = api_client()
    client.force_login(staff)
    assert client.get(PAGE).status_code == 302  # not staff
    make_user(alpha, "root", password="root-pass-123", is_admin=True)  # the same name in a tenant is another user
    tenant_root = page_client(alpha)
    tenant_root.post("/accounts/login/", {"username": "root", "password": "root-pass-123"})
    assert tenant_root.get(f"/admin/billing/statement/tenant/alpha/{month_of():%Y-%m}.csv").status_code == 404
