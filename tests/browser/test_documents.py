"""Documents in the browser: an upload turns ready on the page without a reload (a real
worker ingests it), and a panel grounded on it cites it, the citation opening the passage."""

import pytest

from tests.browser.conftest import screenshot, sign_in
from tests.browser.test_panels import QUESTION, WATCH_ARRIVALS, fill_question, submit_panel, wait_for_report
from tests.panels.conftest import DEVICE_NOTE

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def upload(page, site, name: str, content: bytes) -> None:
    """Choose a file on the documents page and press Upload (documents.js posts it)."""
    page.goto(site.url("/documents/"))
    page.set_input_files("#upload-files", files=[{"name": name, "mimeType": "text/markdown", "buffer": content}])
    page.click("#upload-form button[type=submit]")
    page.locator(f'#upload-results li[data-outcome="accepted"]:has-text("{name}")').wait_for()


def test_an_upload_turns_ready_without_a_reload_and_is_cited(page, acme, catalog, celery_worker):
    sign_in(page, acme)
    page.goto(acme.url("/documents/"))
    page.evaluate(WATCH_ARRIVALS)  # sets window.sameDocument
    page.set_input_files("#upload-files", files=[
        {"name": "Device pathways.md", "mimeType": "text/markdown", "buffer": DEVICE_NOTE}])
    page.click("#upload-form button[type=submit]")
    page.locator('#upload-results li[data-outcome="accepted"]').wait_for()

    row = page.locator("#document-table tr", has_text="Device pathways")
    row.locator(".doc-status.ready").wait_for()  # pending -> processing -> ready, polled by the table
    assert page.evaluate("window.sameDocument") is True, "the page reloaded to show the status"
    screenshot(page, "documents")

    fill_question(page, acme, QUESTION, "open")
    page.locator("#recommended .add-expert").first.wait_for()  # the list above has loaded: no layout shift
    page.fill("input[name=max_rounds]", "1")
    page.get_by_label("Device pathways").check()
    submit_panel(page)
    wait_for_report(page)

    citation = page.locator("#panel-outcome ol.sources a").first
    assert "Device pathways" in citation.inner_text()
    citation.click()
    page.wait_for_url("**/passages/**")
    assert "Device pathways" in page.locator("h1").inner_text()
    passage = page.locator("blockquote.passage")
    assert "510(k)" in passage.inner_text() or "De Novo" in passage.inner_text()
    assert passage.locator("mark").count() >= 1  # the question's words, highlighted
