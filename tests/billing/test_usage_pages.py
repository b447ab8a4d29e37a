"""The Usage page: charts, budgets and statements for tenant admins; a member's own usage;
the budget banner; no other tenant's figures on any page."""

from decimal import Decimal

import pytest
from django.utils import timezone

from tenants.billing.services import usage_record
from tenants.billing.statements import month_of
from tests.conftest import make_user, page_client

pytestmark = pytest.mark.django_db
SECRET = 876_541
SHOWN = "876,541"  # as the page writes it (thousands grouped)


def seed(tenant, user, tokens, key, cost="0.05"):
    usage_record(tenant=tenant, kind="panel_started", key=f"{key}-p", user_id=user.pk, panel_id=1,
                 panel_type="socratic")
    usage_record(tenant=tenant, kind="llm_call", key=f"{key}-c", user_id=user.pk, panel_type="socratic",
                 provider="openai", model="gpt-4o-mini", input_tokens=tokens, cost=Decimal(cost))


def test_an_admin_sees_charts_budgets_top_users_and_statement_links(alpha, admin, member):
    seed(alpha, member, SECRET, "m")
    page = page_client(alpha, admin).get("/usage/")
    text = page.content.decode()
    assert page.status_code == 200
    for chart in ("chart-tokens-by-model", "chart-cost-by-model", "chart-tokens-by-panel-type", "chart-users"):
        assert chart in text
    assert 'role="meter"' in text and "member" in text and "socratic" in text
    assert f"<dd>{SHOWN}</dd>" in text  # the month's tokens, grouped for reading
    assert f"/usage/statements/{month_of():%Y-%m}.csv" in text and f"/usage/statements/{month_of():%Y-%m}.pdf" in text
    assert 'href="/usage/" aria-current="page"' in text


def test_a_member_sees_their_own_usage_and_no_statements(alpha, admin, member):
    seed(alpha, admin, SECRET, "a")
    seed(alpha, member, 321, "m")
    text = page_client(alpha, member).get("/usage/").content.decode()
    assert "Usage: your own" in text and "321" in text and SHOWN not in text and "chart-users" not in text
    assert "Statements" not in text
    assert page_client(alpha, member).get(f"/usage/statements/{month_of():%Y-%m}.csv").status_code == 403


def test_an_admin_downloads_this_months_csv_and_pdf(alpha, admin, member):
    seed(alpha, member, 4321, "m")
    client = page_client(alpha, admin)
    csv = client.get(f"/usage/statements/{month_of():%Y-%m}.csv")
    assert csv.status_code == 200 and "4321" in csv.content.decode()
    assert client.get(f"/usage/statements/{month_of():%Y-%m}.pdf").content.startswith(b"%PDF")
    assert client.get("/usage/statements/2001-01.csv").status_code == 404
    assert client.get("/usage/statements/nonsense.csv").status_code == 404


def test_the_banner_warns_past_the_soft_limit_and_when_used_up(alpha, member):
    budget = alpha.configuration.limits.monthly_token_budget
    client = page_client(alpha, member)
    assert "budget-banner" not in client.get("/usage/").content.decode()
    seed(alpha, member, int(budget * 0.85), "soft", cost="0")
    text = client.get("/").content.decode()
    assert "85% of this month&#x27;s token budget used; resets on" in text or "85% of this month's token budget" in text
    seed(alpha, member, budget, "hard", cost="0")
    assert "budget is used up" in client.get("/").content.decode()


def test_the_page_needs_a_signed_in_user(alpha):
    response = page_client(alpha).get("/usage/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_another_tenants_pages_show_none_of_alphas_figures(alpha, beta, admin, member):
    seed(alpha, member, SECRET, "m")
    beta_admin = make_user(beta, "beta-boss", is_admin=True)
    beta_client = page_client(beta, beta_admin)
    for path in ("/usage/", f"/usage/statements/{month_of():%Y-%m}.csv", "/"):
        response = beta_client.get(path)
        assert response.status_code == 200
        assert str(SECRET).encode() not in response.content and SHOWN.encode() not in response.content
    # alpha's session cookie on beta's host is not a session there.
    alpha_client = page_client(alpha, admin)
    cookie = alpha_client.cookies["sessionid"].value
    stranger = page_client(beta)
    stranger.cookies["sessionid"] = cookie
    assert stranger.get("/usage/").status_code == 302
    # X-Tenant-ID naming alpha on beta's host does not switch the page's tenant.
    response = page_client(beta, beta_admin, HTTP_X_TENANT_ID="alpha").get("/usage/")
    assert response.status_code == 200 and SHOWN.encode() not in response.content
