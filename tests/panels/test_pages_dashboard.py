"""The dashboard (home): quick ask, recent panels, usage against the plan's limits."""

import pytest
from django_tenants.utils import schema_context

from panels.lifecycle import Status
from tests.conftest import make_user, page_client
from tests.panels.pages import make_panel

pytestmark = pytest.mark.django_db


def test_anonymous_is_sent_to_sign_in(alpha):
    response = page_client(alpha).get("/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/?next=/")


def test_member_sees_recent_panels_with_status_and_consensus_and_usage(alpha, alpha_user, catalog):
    panel = make_panel(alpha, alpha_user, query="Is our <b>bold</b> trial design acceptable to EMA?",
                       status=Status.COMPLETED, tokens_used=1234)
    with schema_context("alpha"):
        from panels.models import Consensus

        Consensus.objects.create(panel=panel, score=0.82, level="high", threshold=0.7, reached=True,
                                 majority_stance="support")
    response = page_client(alpha, alpha_user).get("/")
    page = response.content.decode()
    assert response.status_code == 200
    assert "<title>Dashboard" in page
    assert f'href="/panels/{panel.pk}/"' in page
    assert "&lt;b&gt;bold&lt;/b&gt;" in page and "<b>bold</b>" not in page
    assert "consensus high · 0.82" in page and "Completed" in page
    assert "1 of 200" in page  # panels this month against the professional plan
    assert "Tokens used by panels this month: 1234" in page
    assert 'name="q"' in page and 'action="/panels/new/"' in page


def test_a_member_sees_only_their_own_panels_and_an_admin_sees_all(alpha, alpha_user, catalog):
    other = make_user(alpha, "carol")
    theirs = make_panel(alpha, other, query="Carol's question about payer evidence in France?")
    mine = page_client(alpha, alpha_user).get("/").content.decode()
    assert f"/panels/{theirs.pk}/" not in mine
    admin = make_user(alpha, "boss", is_admin=True)
    assert f"/panels/{theirs.pk}/" in page_client(alpha, admin).get("/").content.decode()


def test_a_note_when_the_plan_is_near_a_limit(beta, beta_user, catalog):
    # starter: 20 panels a month; 16 (80 %) is near the limit
    with schema_context("beta"):
        from panels.models import Panel

        Panel.objects.bulk_create([Panel(query=f"Question number {n} about labels", panel_type="structured",
                                         owner=beta_user, tenant_schema="beta", status=Status.COMPLETED)
                                   for n in range(16)])
    page = page_client(beta, beta_user).get("/").content.decode()
    assert "near a limit" in page and "panels this month (16 of 20)" in page


def test_no_note_far_from_the_limits(alpha, alpha_user):
    assert "near a limit" not in page_client(alpha, alpha_user).get("/").content.decode()


def test_another_tenants_session_is_not_signed_in_here(alpha, beta, alpha_user):
    client = page_client(alpha, alpha_user)
    response = client.get("/", HTTP_HOST="beta.localhost")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_no_dashboard_on_the_platform_host(alpha):
    assert page_client(alpha, host="localhost").get("/panels/").status_code == 404
