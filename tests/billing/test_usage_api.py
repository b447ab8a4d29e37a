"""GET /api/v1/usage/ and the statements: admins see the tenant, members their own usage
and no statements; another tenant's token, header or months never reach a byte of it."""

from datetime import date, datetime, timezone as tz
from decimal import Decimal

import pytest
from django.utils import timezone

from tenants.billing.services import usage_record
from tenants.billing.statements import month_of, statement_close
from tests.conftest import api_client, make_token, make_user

pytestmark = pytest.mark.django_db
SECRET_TOKENS = 987_653  # alpha's figure that must never show up on beta


def seed(tenant, user, *, tokens: int, cost: str, key: str, panel_type: str = "open", when=None):
    when = when or timezone.now()
    usage_record(tenant=tenant, kind="panel_started", key=f"{key}-p", occurred_at=when, user_id=user.pk,
                 panel_id=hash(key) % 10_000, panel_type=panel_type, quantity=3)
    usage_record(tenant=tenant, kind="llm_call", key=f"{key}-c", occurred_at=when, user_id=user.pk,
                 panel_type=panel_type, provider="openai", model="gpt-4o-mini", input_tokens=tokens,
                 output_tokens=0, cost=Decimal(cost))


@pytest.fixture
def people(alpha):
    boss, member, other = (make_user(alpha, "boss", is_admin=True), make_user(alpha, "mem"),
                           make_user(alpha, "other"))
    seed(alpha, member, tokens=1000, cost="0.10", key="m")
    seed(alpha, other, tokens=SECRET_TOKENS, cost="2.50", key="o", panel_type="delphi")
    return {"boss": boss, "member": member, "other": other}


def client_for(tenant, user):
    return api_client(tenant, token=make_token(tenant, user))


def test_an_admin_sees_the_whole_tenant_by_day_model_and_panel_type(alpha, people):
    body = client_for(alpha, people["boss"]).get("/api/v1/usage/").json()
    assert body["scope"] == "tenant" and body["month"] == f"{month_of():%Y-%m}"
    assert body["totals"]["tokens"] == 1000 + SECRET_TOKENS and body["totals"]["cost"] == 2.6
    assert body["limits"]["panels_this_month"] == 2 and body["limits"]["running"] == 2
    assert body["limits"]["max_panels_per_month"] == alpha.configuration.limits.max_panels_per_month
    assert {row["panel_type"] for row in body["by_panel_type"]} == {"open", "delphi"}
    assert body["by_model"][0]["model"] == "gpt-4o-mini" and body["by_model"][0]["llm_calls"] == 2
    today = next(day for day in body["by_day"] if day["day"] == timezone.now().date().isoformat())
    assert today["tokens"] == 1000 + SECRET_TOKENS
    assert body["budget"]["tokens"]["used"] == 1000 + SECRET_TOKENS
    assert [user["username"] for user in body["top_users"]] == ["other", "mem"]


def test_a_member_sees_only_their_own_usage(alpha, people):
    body = client_for(alpha, people["member"]).get("/api/v1/usage/").json()
    assert body["scope"] == "user" and body["totals"]["tokens"] == 1000
    assert "top_users" not in body and "other" not in str(body["by_model"])
    assert {row["panel_type"] for row in body["by_panel_type"]} == {"open"}


def test_a_member_gets_403_for_statements(alpha, people):
    client = client_for(alpha, people["member"])
    for path in ("/api/v1/usage/statements/", f"/api/v1/usage/statements/{month_of():%Y-%m}.csv",
                 f"/api/v1/usage/statements/{month_of():%Y-%m}.pdf"):
        response = client.get(path)
        assert response.status_code == 403 and response.json()["error"]["code"] == "forbidden"


def test_statements_list_the_open_month_and_closed_ones(alpha, people):
    may = datetime(2024, 5, 9, tzinfo=tz.utc)
    seed(alpha, people["member"], tokens=50, cost="0.01", key="may", when=may)
    statement_close(tenant=alpha, month=date(2024, 5, 1))
    body = client_for(alpha, people["boss"]).get("/api/v1/usage/statements/").json()
    months = [(row["month"], row["status"]) for row in body["results"]]
    assert months[0] == (f"{month_of():%Y-%m}", "open") and ("2024-05", "closed") in months
    assert body["results"][0]["csv_url"].endswith(f"{month_of():%Y-%m}.csv")


def test_this_months_statement_downloads_as_csv_and_pdf(alpha, people):
    client = client_for(alpha, people["boss"])
    csv = client.get(f"/api/v1/usage/statements/{month_of():%Y-%m}.csv")
    assert csv.status_code == 200 and csv["Content-Type"].startswith("text/csv")
    assert "openai/gpt-4o-mini" in csv.content.decode() and str(1000 + SECRET_TOKENS) in csv.content.decode()
    assert 'filename="statement-alpha-' in csv["Content-Disposition"]
    pdf = client.get(f"/api/v1/usage/statements/{month_of():%Y-%m}.pdf", HTTP_ACCEPT="application/pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


@pytest.mark.parametrize("month, status", [("2001-01", 404), ("2999-01", 404), ("2024-13", 400), ("may", 400)])
def test_a_month_with_nothing_or_a_bad_month_is_refused_in_the_error_shape(alpha, people, month, status):
    response = client_for(alpha, people["boss"]).get(f"/api/v1/usage/statements/{month}.csv")
    assert response.status_code == status and set(response.json()["error"]) == {"code", "message", "details"}


def test_a_bad_month_filter_is_a_400(alpha, people):
    response = client_for(alpha, people["boss"]).get("/api/v1/usage/?month=2024-5")
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid"


def test_another_month_is_given_with_month(alpha, people):
    seed(alpha, people["member"], tokens=55, cost="0.01", key="old", when=datetime(2024, 5, 9, tzinfo=tz.utc))
    body = client_for(alpha, people["boss"]).get("/api/v1/usage/?month=2024-05").json()
    assert body["month"] == "2024-05" and body["totals"]["tokens"] == 55


ENDPOINTS = ["/api/v1/usage/", "/api/v1/usage/statements/", "/api/v1/usage/statements/{month}.csv",
             "/api/v1/usage/statements/{month}.pdf"]


@pytest.mark.parametrize("path", ENDPOINTS)
def test_another_tenant_never_sees_alphas_figures(alpha, beta, people, path):
    url = path.format(month=f"{month_of():%Y-%m}")
    alpha_token = make_token(alpha, people["boss"])
    beta_admin = make_user(beta, "beta-boss", is_admin=True)
    beta_token = make_token(beta, beta_admin)

    # alpha's token on beta's host, and alpha's token naming beta in X-Tenant-ID: not valid there.
    assert api_client(beta, token=alpha_token).get(url).status_code == 401
    assert api_client(token=alpha_token, HTTP_X_TENANT_ID="beta").get(url).status_code == 401
    # beta's token on alpha's host, or naming alpha in X-Tenant-ID from beta's host.
    assert api_client(alpha, token=beta_token).get(url).status_code == 401
    assert api_client(beta, token=beta_token, HTTP_X_TENANT_ID="alpha").get(url).status_code == 403
    # beta's own admin, on its own host and through the header: beta's figures only.
    for client in (api_client(beta, token=beta_token), api_client(token=beta_token, HTTP_X_TENANT_ID="beta")):
        response = client.get(url)
        assert response.status_code == 200
        assert str(SECRET_TOKENS).encode() not in response.content and b"gpt-4o-mini" not in response.content


def test_usage_needs_authentication(alpha):
    for path in ENDPOINTS:
        assert api_client(alpha).get(path.format(month="2024-05")).status_code == 401


def test_the_report_from_rollups_equals_the_raw_ledger(alpha, beta, people):
    """Events over several days of this month (before yesterday, yesterday, today) and of
    May 2024, rolled up: the budget and the panel count read the rollups for whole days
    before yesterday and the ledger after; they equal the ledger summed directly."""
    from datetime import UTC, timedelta

    from tenants.billing.rollups import rollup_day
    from tenants.billing.selectors import month_window, usage_totals
    from tenants.billing.statements import tenant_month_sums, usage_month

    now = timezone.now()
    start, end = month_window()
    moments = [start, start + timedelta(hours=30), now - timedelta(days=3), now - timedelta(days=1), now,
               datetime(2024, 5, 9, tzinfo=tz.utc), datetime(2024, 5, 31, 23, 59, tzinfo=tz.utc)]
    for index, when in enumerate(when for when in moments if when >= start or when.year == 2024):
        seed(alpha, people["member"], tokens=100 + index, cost=f"0.0{index}1", key=f"days-{index}", when=when)
        seed(beta, people["member"], tokens=7, cost="0.5", key=f"beta-days-{index}", when=when)
    days = {when.astimezone(UTC).date() for when in moments}
    for day in days:
        rollup_day(day)

    for month in (month_of(), date(2024, 5, 1)):
        start, end = month_window(month)
        ledger = usage_totals(tenant=alpha, start=start, end=end)
        sums = tenant_month_sums(tenant=alpha, start=start, end=end)
        assert sums == {"tokens": ledger.tokens, "cost": ledger.cost, "panels_started": ledger.panels_started}
        report = usage_month(tenant=alpha, month=month, with_users=True)
        assert report["budget"]["tokens"]["used"] == ledger.tokens
        assert report["budget"]["cost"]["used"] == float(ledger.cost)
        assert report["limits"]["panels_this_month"] == ledger.panels_started
        assert report["totals"]["tokens"] == ledger.tokens and report["totals"]["panels_started"] == ledger.panels_started


def test_the_usage_api_reads_the_ledger_in_a_fixed_number_of_queries(alpha, people):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(alpha, people["boss"])
    client.get("/api/v1/usage/")  # the host's domain is looked up once, then cached
    with CaptureQueriesContext(connection) as few:
        client.get("/api/v1/usage/")
    for index in range(5):
        seed(alpha, make_user(alpha, f"more{index}"), tokens=10, cost="0.01", key=f"more{index}",
             panel_type=["open", "delphi", "socratic"][index % 3])
    with CaptureQueriesContext(connection) as many:
        client.get("/api/v1/usage/")
    assert len(many.captured_queries) == len(few.captured_queries)
