"""Analytics in the browser: an admin of acme (professional plan) opens the page, sees the
figures and the SVG charts, and narrows the date range with the form; a member is refused."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from tests.browser.conftest import screenshot, sign_in
from tests.panels.test_analytics import build_panel

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def acme_panels(acme, catalog):
    from agents.models import Agent
    from panels.models import Panel

    with schema_context("acme"):
        agents = list(Agent.objects.filter(is_active=True).order_by("slug")[:3])
    now = timezone.now().replace(microsecond=0)
    built = [
        build_panel(acme.tenant, acme.admin, created=now - timedelta(days=20), seconds=240, tokens=4200,
                    agents=agents, consensus=(0.86, "high", False), ratings=(5,)),
        build_panel(acme.tenant, acme.admin, created=now - timedelta(days=9), panel_type="adversarial", seconds=420,
                    tokens=6100, agents=agents[:2], consensus=(0.55, "medium", True), ratings=(4,)),
        build_panel(acme.tenant, acme.admin, created=now - timedelta(days=2), panel_type="delphi", seconds=360,
                    tokens=5000, agents=agents[1:], consensus=(0.72, "medium", False)),
    ]
    yield built
    with schema_context("acme"):
        Panel.objects.filter(pk__in=[panel.pk for panel in built]).delete()


def test_an_admin_opens_analytics_and_sees_the_charts(page, acme, acme_panels):
    sign_in(page, acme)
    response = page.goto(acme.url("/analytics/"))
    assert response.status == 200
    assert page.inner_text("h1") == "Analytics"
    assert page.inner_text('[data-figure="completed"]') == "3"
    assert page.inner_text('[data-figure="median-duration"]') == "6 min 0 s"
    assert page.inner_text('[data-figure="dissent"]') == "33%"
    for chart in ("by-type", "by-status", "levels", "consensus-score", "experts-used", "experts-rated"):
        svg = page.locator(f"svg.chart-{chart}")
        assert svg.is_visible() and svg.bounding_box()["width"] > 200
    assert page.locator("svg.chart-by-type rect.week-bar").count() == 3
    screenshot(page, "analytics")

    start = (timezone.localdate() - timedelta(days=5)).isoformat()
    page.fill("input[name=from]", start)
    page.click("form.range button[type=submit]")
    page.wait_for_url(lambda url: f"from={start}" in url)
    assert page.inner_text('[data-figure="completed"]') == "1"
    assert page.locator("svg.chart-by-type rect.week-bar").count() == 1
    assert page.watched.errors == []


def test_a_member_is_refused_analytics(page, acme):
    sign_in(page, acme, acme.member)
    response = page.goto(acme.url("/analytics/"))
    assert response.status == 403
    assert "admins" in page.inner_text("main")
