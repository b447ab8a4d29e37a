"""The main pages as a newcomer sees them after the other browser tests left panels and
documents behind: each renders its heading with no script error, and still fits a 375 px
phone screen without sideways scrolling. ASKPANEL_SCREENSHOTS=1 keeps them as the README's
tour (docs/screenshots/)."""

import pytest

from tests.browser.conftest import screenshot, sign_in
from tests.browser.test_panels import QUESTION, submit_panel, wait_for_report

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PAGES = [  # path, heading, screenshot name
    ("/", "Ask a panel", "dashboard"),
    ("/panels/", "All panels of Acme Therapeutics", "history"),
    ("/experts/", "Experts", "experts"),
    ("/settings/", "Settings", "settings"),
]


@pytest.fixture
def offline_experts(acme):
    """Acme's panels on the built-in offline provider (readable answers from the experts'
    profiles and the tenant's documents) instead of the fake endpoint."""
    from tenants.services import tenant_update_configuration

    previous = acme.tenant.llm
    tenant_update_configuration(tenant=acme.tenant, llm={})
    yield
    tenant_update_configuration(tenant=acme.tenant, llm=previous)


def test_the_dashboards_quick_ask_leads_to_a_report(page, acme, catalog, celery_worker, offline_experts):
    sign_in(page, acme)
    page.goto(acme.url("/"))
    page.fill("#quick-question", QUESTION)
    page.get_by_role("button", name="Choose the panel").click()
    page.wait_for_url("**/panels/new/**")
    assert page.locator("textarea[name=query]").input_value() == QUESTION
    page.check("input.type-radio[value=open]")
    submit_panel(page)
    wait_for_report(page)
    report = page.locator("#panel-outcome [data-report]")
    assert report.locator("figure.matrix svg").is_visible()
    assert "Fake model answer" not in report.inner_text()
    page.set_viewport_size({"width": 1280, "height": 1500})
    screenshot(page, "report", full_page=False)  # the recommendation and the charts; the transcript runs on


def test_the_main_pages_render_and_fit_a_phone(page, acme):
    sign_in(page, acme)
    for path, heading, name in PAGES:
        page.set_viewport_size({"width": 1280, "height": 860})
        response = page.goto(acme.url(path))
        assert response.status == 200, path
        assert heading in page.locator("h1").first.text_content(), path
        screenshot(page, name)

        page.set_viewport_size({"width": 375, "height": 800})
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{path} scrolls sideways by {overflow}px at 375 px wide"
    assert page.watched.errors == []
    assert page.watched.dialogs == []
