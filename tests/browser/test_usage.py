"""Usage in the browser: an admin whose panels ran opens Usage from the navigation, sees
the charts and the budgets, and downloads this month's statement as CSV."""

import uuid
from decimal import Decimal

import pytest

from tests.browser.conftest import screenshot, sign_in

pytestmark = [pytest.mark.browser]


def test_an_admin_opens_usage_sees_the_charts_and_downloads_this_months_csv(page, acme):
    from tenants.billing.services import usage_record
    from tenants.billing.statements import month_of

    run = uuid.uuid4().hex[:8]
    for index, panel_type in enumerate(("open", "delphi")):
        usage_record(tenant=acme.tenant, kind="panel_started", key=f"browser-{run}-{index}-p",
                     user_id=acme.admin.pk, panel_id=900 + index, panel_type=panel_type, quantity=4)
        usage_record(tenant=acme.tenant, kind="llm_call", key=f"browser-{run}-{index}-c", user_id=acme.admin.pk,
                     panel_id=900 + index, panel_type=panel_type, provider="openai", model="gpt-4o-mini",
                     input_tokens=1200 * (index + 1), output_tokens=300, cost=Decimal("0.0123"))

    sign_in(page, acme)
    page.click("nav.site-nav >> text=Usage")
    page.wait_for_url(lambda url: url.endswith("/usage/"))
    for chart in ("svg.chart-tokens-by-model", "svg.chart-cost-by-model", "svg.chart-tokens-by-panel-type",
                  "svg.chart-users"):
        assert page.locator(chart).count() == 1
    assert page.locator("svg.chart-tokens-by-model rect.day-bar").count() >= 1
    assert page.locator(".budget-bar[role=meter]").count() == 2
    screenshot(page, "usage")
    page.set_viewport_size({"width": 420, "height": 900})
    screenshot(page, "usage-narrow")
    page.set_viewport_size({"width": 1280, "height": 860})

    month = f"{month_of():%Y-%m}"
    with page.expect_download() as download:
        page.click(f'tr[data-month="{month}"] >> text=CSV')
    text = open(download.value.path(), encoding="utf-8").read()
    assert f"statement,{acme.tenant.name},acme,{month},open" in text and "openai/gpt-4o-mini" in text
    assert page.watched.errors == []
