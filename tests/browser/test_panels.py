"""A panel in the browser, end to end through a real worker: ask with hand-picked experts,
watch contributions arrive on the live page without a reload, read the report (gauge,
matrix), download the PDF; a hybrid panel takes a human's input from the page."""

import re

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from tests.browser.conftest import screenshot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]

QUESTION = "Should we file a De Novo or a 510(k) for our AI-based ECG arrhythmia detection software?"
HAND_PICKED = ["fda-510k-specialist", "fda-de-novo-strategist", "samd-ai-regulatory-lead"]

# Records, from before the answers are let through, every contribution card the page
# inserts and whether the document is still the one loaded (a reload starts a new one).
WATCH_ARRIVALS = """() => {
  window.arrivals = [];
  window.sameDocument = true;
  new MutationObserver(records => records.forEach(record => record.addedNodes.forEach(node => {
    if (node.nodeType !== 1) return;
    const cards = node.matches('article.contribution') ? [node] : [...node.querySelectorAll('article.contribution')];
    cards.forEach(card => window.arrivals.push(card.dataset.contributionId));
  }))).observe(document.body, {childList: true, subtree: true});
}"""


def pick_expert(page, slug: str) -> None:
    """Search the catalog on the ask page and add the expert."""
    page.fill("#expert-search", slug)
    add = page.locator(f'#catalog-results .add-expert[data-slug="{slug}"]')
    add.click()
    page.locator(f'#chosen li[data-slug="{slug}"]').wait_for()


def fill_question(page, site, question: str, panel_type: str) -> None:
    page.goto(site.url("/panels/new/"))
    page.fill("textarea[name=query]", question)
    page.check(f"input.type-radio[value={panel_type}]")


def submit_panel(page) -> int:
    page.click("#ask-submit")
    try:
        page.wait_for_url(re.compile(r"/panels/\d+/$"))
    except PlaywrightTimeoutError:  # say what the page says (a refusal, an error), not only "timeout"
        said = page.locator("[role=alert], .error, .errorlist").all_inner_texts()
        raise AssertionError(f"no panel page after asking; still at {page.url}, which says: {said}") from None
    return int(re.search(r"/panels/(\d+)/$", page.url).group(1))


def wait_for_report(page) -> None:
    page.locator("#panel-outcome [data-report] figure.gauge svg").wait_for()


def test_ask_watch_live_read_the_report_and_download_the_pdf(page, acme, llm, catalog, celery_worker):
    sign_in(page, acme)
    fill_question(page, acme, QUESTION, "open")
    page.locator("#recommended .add-expert").first.wait_for()  # recommended as the question was typed
    for slug in HAND_PICKED:
        pick_expert(page, slug)
    assert page.locator("#ask-submit").is_enabled()
    screenshot(page, "ask")

    llm.hold()  # no expert answers until the live page is watching
    panel_id = submit_panel(page)
    page.locator("#panel-status").wait_for()
    assert page.locator("article.contribution").count() == 0
    page.evaluate(WATCH_ARRIVALS)

    llm.allow(1)  # round 1: one expert answers while the others are still held
    page.locator("#round-1 article.contribution").first.wait_for()
    assert page.locator("#round-1 article.contribution").count() == 1  # a card per answer, as it lands
    llm.allow(len(HAND_PICKED) - 1)
    page.locator("#round-1 article.contribution").nth(len(HAND_PICKED) - 1).wait_for()
    assert page.evaluate("window.sameDocument") is True
    assert len(set(page.evaluate("window.arrivals"))) == len(HAND_PICKED)
    expert_names = page.locator("#round-1 article.contribution header strong").all_inner_texts()
    assert len(set(expert_names)) == len(HAND_PICKED)
    screenshot(page, "live")

    llm.release()  # round 2 and the synthesis
    wait_for_report(page)
    assert page.evaluate("window.sameDocument") is True, "the page reloaded to show the report"
    assert len(set(page.evaluate("window.arrivals"))) >= 2 * len(HAND_PICKED)
    report = page.locator("#panel-outcome [data-report]")
    assert report.locator("figure.gauge svg").is_visible()
    matrix = report.locator("figure.matrix svg")
    assert matrix.is_visible()
    assert f"Agreement between {len(HAND_PICKED)} experts" in matrix.get_attribute("aria-label")
    for name in expert_names:  # the matrix is experts x experts
        assert name in matrix.get_attribute("aria-label")
    assert report.locator(".action").inner_text().lower() in {"proceed", "caution", "stop", "investigate"}

    with page.expect_download() as download_info:
        report.get_by_role("link", name="Export PDF").click()
    download = download_info.value
    assert download.suggested_filename == f"panel-{panel_id}.pdf"
    with open(download.path(), "rb") as pdf:
        assert pdf.read(5) == b"%PDF-"
    assert page.watched.errors == []


def test_a_hybrid_panel_takes_a_humans_input_from_the_page(page, acme, catalog, celery_worker):
    sign_in(page, acme)
    fill_question(page, acme, QUESTION, "hybrid")
    panel_id = submit_panel(page)

    form = page.locator("#panel-human form")
    form.wait_for()  # the panel awaits input: the form appears as the status changes
    assert page.locator("#panel-human .countdown").inner_text().endswith("left")
    page.fill("#panel-human input[name=expert_name]", "Dr. Ana Human")
    page.fill("#panel-human textarea[name=text]",
              "Our predicate search found two ECG devices with the same intended use, so a 510(k) is realistic.")
    form.get_by_role("button", name="Send my input").click()
    page.wait_for_url(re.compile(rf"/panels/{panel_id}/$"))

    wait_for_report(page)
    transcript = page.locator("#panel-outcome .transcript")
    assert "Dr. Ana Human" in transcript.inner_text()
    assert "two ECG devices with the same intended use" in transcript.inner_text()
    assert page.locator("#panel-human form").count() == 0
