"""GET /api/v1/usage/ and the statements: admins see the tenant, members their own usage
and no statements; another tenant's token, header or months never reach a byte of it."""

from datetime import UTC, date, datetime
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
    may = datetime(2024, 5, 9, tzinfo=UTC)
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
    from tenants.billing.rollups import rollup_day

    seed(alpha, people["member"], tokens=55, cost="0.01", key="old", when=datetime(2024, 5, 9, tzinfo=UTC))
    rollup_day(date(2024, 5, 9))  # as beat did that day: days before yesterday are read from the rollups
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


def ledger_report(tenant, month: date, user_id=None) -> dict:
    """The report's figures summed in Python from the month's ledger rows, the plain way."""
    from collections import defaultdict

    from tenants.billing.models import UsageEvent
    from tenants.billing.selectors import month_window

    start, end = month_window(month)
    events = UsageEvent.objects.filter(tenant=tenant, occurred_at__gte=start, occurred_at__lt=end)
    by_day, by_model, by_type = defaultdict(int), defaultdict(lambda: [0, 0, Decimal(0)]), defaultdict(int)
    started, users = defaultdict(int), defaultdict(lambda: [0, Decimal(0), 0])
    for event in events:
        if event.user_id is not None:
            users[event.user_id][0] += event.tokens
            users[event.user_id][1] += event.cost
            users[event.user_id][2] += event.kind == "panel_started"
        if user_id is not None and event.user_id != user_id:
            continue
        if event.kind == "panel_started":
            started[event.panel_type] += 1
        if event.kind != "llm_call":
            continue
        by_day[event.occurred_at.date().isoformat()] += event.tokens
        model = by_model[(event.provider, event.model)]
        model[0] += 1
        model[1] += event.tokens
        model[2] += event.cost
        by_type[event.panel_type] += event.tokens
    return {"by_day": dict(by_day), "by_model": {key: (calls, tokens, round(float(cost), 6))
                                                 for key, (calls, tokens, cost) in by_model.items()},
            "by_panel_type": dict(by_type), "started": dict(started),
            "top_users": sorted(((user, tokens, round(float(cost), 6), panels)
                                 for user, (tokens, cost, panels) in users.items()),
                                key=lambda row: (-row[1], row[0]))}


def report_figures(report: dict) -> dict:
    """The same figures, from usage_month's report."""
    return {"by_day": {row["day"]: row["tokens"] for row in report["by_day"] if row["tokens"]},
            "by_model": {(row["provider"], row["model"]): (row["llm_calls"], row["tokens"], row["cost"])
                         for row in report["by_model"]},
            "by_panel_type": {row["panel_type"]: row["tokens"] for row in report["by_panel_type"]
                              if row["llm_calls"]},
            "started": {row["panel_type"]: row["started"] for row in report["by_panel_type"] if row["started"]},
            "top_users": [(row["user_id"], row["tokens"], row["cost"], row["panels"])
                          for row in report.get("top_users", [])]}


def test_the_report_from_rollups_equals_the_raw_ledger(alpha, beta, people):
    """Events over several days of this month (before yesterday, yesterday, today) and of
    May 2024, by two users, panel types and providers, and without a user, rolled up: the
    report reads the rollups for whole days before yesterday and the ledger after; every
    figure equals the ledger summed directly."""
    from datetime import UTC, timedelta

    from tenants.billing.rollups import rollup_day
    from tenants.billing.selectors import (
        budget_status,
        month_window,
        period_totals,
        usage_totals,
    )
    from tenants.billing.statements import usage_month

    now = timezone.now()
    start, end = month_window()
    moments = [start, start + timedelta(hours=30), now - timedelta(days=3), now - timedelta(days=1), now,
               datetime(2024, 5, 9, tzinfo=UTC), datetime(2024, 5, 31, 23, 59, tzinfo=UTC)]
    for index, when in enumerate(when for when in moments if when >= start or when.year == 2024):
        user = people["member"] if index % 2 else people["other"]
        seed(alpha, user, tokens=100 + index, cost=f"0.0{index}1", key=f"days-{index}", when=when,
             panel_type=["open", "delphi", "socratic"][index % 3])
        usage_record(tenant=alpha, kind="llm_call", key=f"days-{index}-anthropic", occurred_at=when,
                     user_id=people["boss"].pk, panel_type="open", provider="anthropic", model="claude-haiku",
                     input_tokens=3 * index, output_tokens=index, cost=Decimal("0.002"))
        usage_record(tenant=alpha, kind="embeddings", key=f"days-{index}-embeddings", occurred_at=when,
                     quantity=5, input_tokens=50, cost=Decimal("0.0001"))  # no user: in totals, not top users
        seed(beta, people["member"], tokens=7, cost="0.5", key=f"beta-days-{index}", when=when)
    days = {when.astimezone(UTC).date() for when in moments}
    for day in days:
        rollup_day(day)

    for month in (month_of(), date(2024, 5, 1)):
        start, end = month_window(month)
        ledger = usage_totals(tenant=alpha, start=start, end=end)
        assert period_totals(tenant=alpha, start=start, end=end) == ledger
        report = usage_month(tenant=alpha, month=month, with_users=True)
        assert report_figures(report) == ledger_report(alpha, month)
        assert report["budget"]["tokens"]["used"] == ledger.tokens
        assert report["budget"]["cost"]["used"] == float(ledger.cost)
        assert report["limits"]["panels_this_month"] == ledger.panels_started
        assert report["totals"]["panels_started"] == ledger.panels_started
        member = usage_month(tenant=alpha, month=month, user_id=people["member"].pk)
        assert report_figures(member) == {**ledger_report(alpha, month, user_id=people["member"].pk),
                                          "top_users": []}
    this_month = usage_totals(tenant=alpha, start=month_window()[0], end=month_window()[1])
    assert budget_status(tenant=alpha).tokens.used == this_month.tokens
    assert budget_status(tenant=alpha).cost.used == this_month.cost


def test_a_panel_started_days_ago_without_an_ending_is_not_running(alpha, people):
    from datetime import timedelta

    from tenants.billing.statements import panels_running

    running = panels_running(tenant=alpha)  # people's two panels started now
    usage_record(tenant=alpha, kind="panel_started", key="lost", occurred_at=timezone.now() - timedelta(days=3),
                 panel_id=424242, panel_type="open")
    usage_record(tenant=alpha, kind="panel_started", key="fresh", occurred_at=timezone.now(), panel_id=434343,
                 panel_type="open")
    usage_record(tenant=alpha, kind="panel_completed", key="fresh-done", occurred_at=timezone.now(),
                 panel_id=434343, panel_type="open")
    usage_record(tenant=alpha, kind="panel_started", key="new", occurred_at=timezone.now(), panel_id=444444,
                 panel_type="open")

    assert running == 2 and panels_running(tenant=alpha) == 3


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
