"""Saved panel templates in the browser: save a finished panel's report as a template, find
it on the templates page, then start a new panel from it on the Ask page (the form filled
from the template, its placeholder replaced by the user)."""

import re
import time

import pytest
from django_tenants.utils import schema_context

from panels.lifecycle import Status
from tests.browser.conftest import screenshot, sign_in
from tests.panels.pages import make_panel

pytestmark = [pytest.mark.browser, pytest.mark.slow]

QUESTION_TEMPLATE = "Should we file a De Novo or a 510(k) for {product}?"


@pytest.fixture
def finished_panel(acme, catalog):
    from panels.lifecycle import FINAL
    from panels.models import Panel, PanelTemplate

    panel = make_panel(acme.tenant, acme.admin, panel_type="open", status=Status.COMPLETED)
    with schema_context("acme"):
        before = set(Panel.objects.values_list("pk", flat=True))
    yield panel
    with schema_context("acme"):
        # The panel started from the template may still be running in the worker: deleting it
        # meanwhile races the worker's last writes (its consensus). Wait for it to end first.
        started = Panel.objects.exclude(pk__in=before)
        deadline = time.monotonic() + 60
        while started.exclude(status__in=FINAL).exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        PanelTemplate.objects.filter(name="Device pathway review").delete()
        started.delete()
        Panel.objects.filter(pk=panel.pk).delete()


def test_save_a_report_as_a_template_then_start_a_panel_from_it(page, acme, finished_panel):
    from panels.models import Panel

    sign_in(page, acme)
    page.goto(acme.url(f"/panels/{finished_panel.pk}/"))
    page.click("details.save-template summary")
    page.fill("#template-name", "Device pathway review")
    page.fill("#template-question", QUESTION_TEMPLATE)
    page.check("#template-shared")
    page.click("details.save-template button[type=submit]")
    page.wait_for_url(re.compile(r"/panels/templates/\?saved=\d+$"))
    card = page.locator(".template-card", has_text="Device pathway review")
    assert card.is_visible() and "shared" in card.inner_text()
    screenshot(page, "templates")

    card.locator("a", has_text="Use").click()
    page.wait_for_url(re.compile(r"/panels/new/\?template=\d+$"))
    assert page.input_value("textarea[name=query]") == QUESTION_TEMPLATE
    assert page.is_checked("input.type-radio[value=open]")
    with schema_context("acme"):
        seated = [m.agent.slug for m in finished_panel.members.order_by("seat")]
    assert page.locator("#chosen li").evaluate_all("items => items.map(item => item.dataset.slug)") == seated
    assert "{product}" in page.inner_text("#template-notice")

    page.fill("textarea[name=query]", QUESTION_TEMPLATE.format(product="our ECG patch"))
    page.click("#ask-submit")
    page.wait_for_url(re.compile(r"/panels/\d+/$"))
    panel_id = int(re.search(r"/panels/(\d+)/$", page.url).group(1))
    with schema_context("acme"):
        panel = Panel.objects.get(pk=panel_id)
        assert panel.query == "Should we file a De Novo or a 510(k) for our ECG patch?"
        assert panel.panel_type == "open" and [m.agent.slug for m in panel.members.order_by("seat")] == seated
    assert page.watched.errors == []
