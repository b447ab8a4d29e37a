"""The analytics page: figures and SVG charts for tenant admins on a plan with
`advanced_analytics`, the date range form, refusals, and tenant isolation."""

import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone
from django_tenants.utils import schema_context

from agents.models import Agent
from panels.views_analytics import duration_text, score_line, weekly_bars
from tenants.selectors import routing_cache_clear
from tests.conftest import make_user, page_client, tenant_domain
from tests.factories import make_document
from tests.panels.test_analytics import FROM, TO, at, build_panel, seeded  # noqa: F401  (seeded: a fixture)

pytestmark = pytest.mark.django_db
RANGE = {"from": FROM.isoformat(), "to": TO.isoformat()}


def figure(page: str, name: str) -> str:
    return re.search(rf'data-figure="{name}">([^<]*)<', page).group(1)


def admin_page(tenant, params=None, username="boss"):
    return page_client(tenant, make_user(tenant, username, is_admin=True)).get("/analytics/", params or {})


@pytest.mark.usefixtures("seeded")
def test_an_admin_sees_the_figures_and_every_chart(alpha):
    response = admin_page(alpha, RANGE)
    assert response.status_code == 200
    page = response.content.decode()
    assert "<title>Analytics" in page and "from 5 Jan 2026 to 25 Jan 2026 (UTC), by ISO week: 4 panels" in page
    assert (figure(page, "completed"), figure(page, "median-duration"), figure(page, "median-tokens"),
            figure(page, "dissent")) == ("3", "5 min 0 s", "2,000", "67%")
    for chart in ("by-type", "by-status", "levels", "consensus-score", "experts-used", "experts-rated", "documents"):
        assert f"chart chart-{chart}" in page
    assert 'data-week="2026-W03" data-kind="delphi" data-count="1"' in page
    assert 'data-week="2026-W02" data-value="0.7500"' in page  # the mean consensus score of W02
    assert 'data-label="Device pathways note" data-value="3"' in page
    assert 'value="2026-01-05"' in page and 'value="2026-01-25"' in page  # the form keeps the range


def test_without_a_range_the_page_shows_the_last_12_weeks(alpha):
    page = admin_page(alpha).content.decode()
    assert page.count('class="week-bar"') == 0 and "0 panels" in page
    today = timezone.localdate()
    assert f'name="to" value="{today.isoformat()}"' in page
    assert f'name="from" value="{(today - timedelta(days=83)).isoformat()}"' in page
    assert "No experts seated in this range." in page and "No document was cited in this range." in page


@pytest.mark.parametrize("params, message", [
    ({"from": "2026-02-30"}, "From: Enter a valid date."),
    ({"from": "2026-02-01", "to": "2026-01-01"}, "The range starts (2026-02-01) after it ends (2026-01-01)"),
])
def test_a_bad_range_is_explained_and_the_default_shown(alpha, params, message):
    response = admin_page(alpha, params)
    assert response.status_code == 400
    page = response.content.decode()
    assert message in page and "Showing the last 12 weeks instead." in page and "chart chart-by-type" in page


def test_a_member_is_refused(alpha, member):
    response = page_client(alpha, member).get("/analytics/")
    assert response.status_code == 403
    assert "Analytics are for this workspace&#x27;s admins" in response.content.decode()


def test_a_starter_plan_gets_the_reason_and_no_figures(beta):
    response = admin_page(beta)
    assert response.status_code == 403
    page = response.content.decode()
    assert "Analytics are not included in your plan (starter); available on professional and enterprise." in page
    assert "data-refusal" in page and "chart chart-" not in page


def test_anonymous_is_sent_to_sign_in(alpha):
    response = page_client(alpha).get("/analytics/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_a_document_title_is_escaped_in_the_chart(alpha, catalog, media_root):
    owner = make_user(alpha, "owner")
    document = make_document(alpha, "x.md", b"# Note\n\nThe De Novo pathway suits novel low-risk devices.",
                             title="<script>alert('title')</script>Note", user=owner)
    with schema_context("alpha"):
        chunk = f"C{document.chunks.first().pk}"
        agent = Agent.objects.filter(is_active=True).first()
    build_panel(alpha, owner, created=at(6), seconds=10, agents=(agent,), citations=([chunk],))
    page = admin_page(alpha, RANGE).content.decode()
    assert "<script>alert(" not in page and "&lt;script&gt;alert(&#x27;title&#x27;)" in page


# --- tenants ---------------------------------------------------------------------------


@pytest.mark.usefixtures("seeded")
def test_each_tenant_sees_only_its_own_panels(alpha, beta):
    beta.features = {"advanced_analytics": True}
    beta.save()
    routing_cache_clear()
    build_panel(beta, make_user(beta, "beta-owner"), created=at(20), panel_type="socratic", seconds=30, tokens=7777)
    beta_page = admin_page(beta, RANGE).content.decode()
    assert "by ISO week: 1 panel." in beta_page
    assert (figure(beta_page, "completed"), figure(beta_page, "median-tokens")) == ("1", "7,777")
    assert 'data-kind="socratic"' in beta_page and 'data-kind="delphi"' not in beta_page
    assert "Device pathways note" not in beta_page
    alpha_page = admin_page(alpha, RANGE).content.decode()
    assert "by ISO week: 4 panels" in alpha_page and 'data-kind="socratic"' not in alpha_page


def test_another_tenants_session_is_not_signed_in_here(alpha, beta):
    client = page_client(alpha, make_user(alpha, "boss", is_admin=True), host=tenant_domain(beta.schema_name))
    response = client.get("/analytics/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_platform_host_has_no_analytics_page(alpha):
    response = page_client(alpha, make_user(alpha, "boss", is_admin=True), host=settings.BASE_DOMAIN).get("/analytics/")
    assert response.status_code == 404


# --- the charts, on data ---------------------------------------------------------------


def test_weekly_bars_stack_each_kind_to_one_scale():
    svg = weekly_bars(weeks=["2026-W02", "2026-W03"], counts=[{"open": 2, "delphi": 1}, {"open": 1}],
                      order=["open", "delphi"], colours={"open": "#111111", "delphi": "#222222"}, name="t", what="Panels")
    heights = {(m[0], m[1]): float(m[2]) for m in re.findall(
        r'data-week="([^"]+)" data-kind="([^"]+)" data-count="\d+" x="[^"]+" y="[^"]+" width="[^"]+" height="([^"]+)"', svg)}
    assert heights == {("2026-W02", "open"): 100.0, ("2026-W02", "delphi"): 50.0, ("2026-W03", "open"): 50.0}
    assert 'aria-label="Panels per ISO week. 2026-W02: 2 open, 1 delphi; 2026-W03: 1 open."' in svg


def test_score_line_skips_weeks_without_a_score():
    svg = score_line(weeks=["2026-W02", "2026-W03", "2026-W04"], scores=[0.5, None, 1.0])
    assert re.findall(r'class="score-point chart-primary" data-week="([^"]+)"', svg) == ["2026-W02", "2026-W04"]
    assert "Mean consensus score per ISO week. 2026-W02: 0.50; 2026-W04: 1.00." in svg


def test_an_empty_range_says_so_in_the_chart():
    assert "Panels per ISO week: none in this range." in weekly_bars(
        weeks=["2026-W02"], counts=[{}], order=["open"], colours={"open": "#111111"}, name="t", what="Panels")


def test_duration_text():
    assert [duration_text(s) for s in (None, 42, 300, 3725.4)] == ["", "42 s", "5 min 0 s", "1 h 2 min"]

