"""Text written by a user or a model never runs as script in the page: a document and an
expert's answer carrying <script> and onerror= are shown as text (or sanitised away), and
no dialog fires (every dialog the page opens is recorded by the `page` fixture)."""

import json

import pytest
from django_tenants.utils import schema_context

from tests.browser.conftest import sign_in
from tests.browser.test_documents import upload
from tests.browser.test_panels import (
    HAND_PICKED, WATCH_ARRIVALS, fill_question, pick_expert, submit_panel, wait_for_report,
)
from tests.fakes.llm_server import Reply

pytestmark = [pytest.mark.browser, pytest.mark.slow]

HOSTILE_DOCUMENT = (
    b"# Predicate note\n\n"
    b"The marker XSSDOC sits next to <script>alert('xss-document')</script> and "
    b"<img src=x onerror=\"alert('xss-document-img')\"> in this passage about a 510(k) predicate device "
    b"with the same intended use.\n"
)
HOSTILE_STATEMENT = ("XSSANSWER: the predicate looks sound <script>alert('xss-answer')</script> "
                     "<img src=x onerror=\"alert('xss-answer-img')\"> <svg onload=\"alert('xss-answer-svg')\"></svg>")


def hostile_answer() -> str:
    return json.dumps({
        "statement": HOSTILE_STATEMENT,
        "position": "<b onmouseover=\"alert('xss-position')\">XSSPOSITION</b> <script>alert('xss-position')</script>",
        "stance": "support", "confidence": 0.7,
        "key_points": ["<script>alert('xss-point')</script>XSSPOINT", "<img src=x onerror=alert('xss-point-img')>"],
        "citations": [], "estimate": 0.5, "action": "proceed",
    })


@pytest.fixture
def cleanup(acme):
    """What these tests made leaves the tenant (the tour's screenshots come after)."""
    yield
    from panels.models import Panel
    from rag.models import Document

    with schema_context(acme.schema_name):
        Panel.objects.filter(query__contains="xss-question").delete()
        for document in Document.objects.filter(title="Hostile note"):
            document.file.delete(save=False)
            document.delete()


def no_script_ran(page) -> None:
    assert page.watched.dialogs == []
    assert page.locator("[onerror], [onload], [onmouseover]").count() == 0


def test_a_script_in_a_document_does_not_run(page, acme, celery_worker, cleanup):
    sign_in(page, acme)
    upload(page, acme, "Hostile note.md", HOSTILE_DOCUMENT)
    row = page.locator("#document-table tr", has_text="Hostile note")
    row.locator(".doc-status.ready").wait_for()
    row.get_by_role("link", name="Hostile note").click()

    chunk = page.locator("article.hit", has_text="XSSDOC").first  # the document's chunks
    assert "<script>alert('xss-document')</script>" in chunk.inner_text()  # shown as text
    no_script_ran(page)

    chunk.get_by_role("link").click()  # the passage page, words highlighted
    page.goto(page.url + "?q=predicate+script")
    assert "XSSDOC" in page.locator("blockquote.passage").inner_text()
    assert page.locator("blockquote.passage mark").count() >= 1
    no_script_ran(page)

    page.goto(acme.url("/documents/search/?q=XSSDOC+predicate+script"))
    assert page.get_by_text("XSSDOC").count() >= 1
    no_script_ran(page)


def test_a_script_in_a_model_answer_does_not_run(page, acme, llm, catalog, celery_worker, cleanup):
    sign_in(page, acme)
    fill_question(page, acme, "Is <script>alert('xss-question')</script> our 510(k) predicate strategy sound?", "open")
    page.fill("input[name=max_rounds]", "1")
    for slug in HAND_PICKED:
        pick_expert(page, slug)
    llm.hold()
    llm.script("chat", *[Reply(text=hostile_answer()) for _ in range(3)])
    submit_panel(page)
    page.evaluate(WATCH_ARRIVALS)
    assert "<script>alert('xss-question')</script>" in page.locator("h1").inner_text()
    llm.allow(3)  # three hostile answers arrive as live cards
    page.locator("article.contribution", has_text="XSSANSWER").nth(2).wait_for()
    no_script_ran(page)

    llm.release()
    wait_for_report(page)
    assert page.locator("#panel-outcome", has_text="XSSANSWER").count() == 1
    no_script_ran(page)
    page.reload()  # the report as the server renders it
    assert page.locator("#panel-outcome", has_text="XSSANSWER").count() == 1
    assert page.locator("#panel-outcome script").count() == 0
    no_script_ran(page)
