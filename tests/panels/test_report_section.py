"""The report section of a completed panel (panels/_report.html): charts, dissent,
citations linking to the cited passage, the rating form, and model text that stays text."""

import re
from html.parser import HTMLParser

import pytest
from django.template.loader import render_to_string
from django.urls import reverse
from django_tenants.utils import schema_context

from panels.selectors import cited_words, panel_detail, panel_report_data, passage_words
from tests.panels.conftest import run_inline
from tests.panels.report_factory import HOSTILE_NAME, build_completed_panel
from tests.conftest import page_client
from tests.factories import make_document

pytestmark = pytest.mark.django_db


class Elements(HTMLParser):
    """Every start tag with its attributes."""

    def __init__(self, html: str):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def all(self, tag: str, **attributes) -> list[dict]:
        return [attrs for name, attrs in self.tags if name == tag
                and all(attrs.get(k.replace("_", "-")) == v for k, v in attributes.items())]


def render_report(tenant, user, panel_id: int) -> str:
    with schema_context(tenant.schema_name):
        return render_to_string("panels/_report.html", {"panel": panel_detail(user=user, panel_id=panel_id)})


def test_the_report_shows_the_recommendation_charts_and_dissent(alpha, alpha_user):
    panel = build_completed_panel(alpha, alpha_user)
    html = render_report(alpha, alpha_user, panel.pk)
    page = Elements(html)
    assert page.all("span", **{"class": "action action-caution"})
    assert "<strong>De Novo</strong>" in html and "No valid predicate device" in html
    charts = {attrs["class"]: attrs for attrs in page.all("svg")}
    assert set(charts) == {"chart chart-gauge", "chart chart-matrix", "chart chart-stances"}
    assert all(attrs["role"] == "img" and attrs["aria-label"] for attrs in charts.values())
    assert "Consensus score 0.58 (medium) against the panel&#x27;s threshold 0.60: not reached." in html
    assert len(page.all("rect", **{"class": "matrix-cell chart-primary"})) == 9
    assert len([r for r in page.all("rect") if "stance-bar" in r.get("class", "")]) == 5
    dissent = html[html.index("<h2>Dissent</h2>"):html.index("Sources cited")]
    assert "&lt;script&gt;alert(&#x27;name&#x27;)&lt;/script&gt;Dr. Mallory" in dissent
    assert "A predicate exists for the older model" in dissent and "oppose" in dissent
    assert "A predicate device is missing" in html and "Ada Regulatory, Grace Clinical" in html


def test_a_delphi_report_shows_the_estimates_converging(alpha, alpha_user):
    panel = build_completed_panel(alpha, alpha_user, panel_type="delphi",
                                  estimates=[(0.2, 0.9, 0.5), (0.4, 0.7, 0.55)])
    page = Elements(render_report(alpha, alpha_user, panel.pk))
    assert page.all("svg", **{"class": "chart chart-delphi"})
    assert len(page.all("polyline", **{"class": "delphi-line"})) == 3
    assert not Elements(render_report(alpha, alpha_user, build_completed_panel(alpha, alpha_user).pk)).all(
        "svg", **{"class": "chart chart-delphi"})


def test_every_citation_links_to_the_cited_passage(alpha, alpha_user):
    panel = build_completed_panel(alpha, alpha_user)
    page = Elements(render_report(alpha, alpha_user, panel.pk))
    with schema_context("alpha"):
        passage_41 = reverse("passage", args=[41])
    links = [a["href"] for a in page.all("a") if a["href"].startswith(passage_41.rsplit("41", 1)[0])]
    words = passage_words(panel.query)
    assert words.split() == ["file", "novo", "request", "ecg", "arrhythmia", "software"]
    assert f"{passage_41}?q={words.replace(' ', '%20')}" in links
    # the sources list (1) and each of 6 contributions cite C41; the first expert's 2 also cite C42
    assert len([link for link in links if link.startswith(passage_41 + "?")]) == 7
    assert len([link for link in links if "/42/?" in link]) == 2


def test_a_cited_passage_link_marks_the_claims_words_found_in_the_passage(alpha, alpha_user):
    document = make_document(alpha, "pathways.md", b"# Pathways\n\nThe De Novo pathway suits a novel device of "
                             b"low to moderate risk with no predicate. A predicate device anchors a 510(k).")
    panel = build_completed_panel(alpha, alpha_user)
    with schema_context("alpha"):
        chunk = document.chunks.get()
        contribution = panel.contributions.order_by("id").first()
        contribution.text = "Without any predicate, the De Novo pathway fits this novel device. [C%d]" % chunk.pk
        contribution.citations = [f"C{chunk.pk}"]
        contribution.save(update_fields=["text", "citations"])
        passage = reverse("passage", args=[chunk.pk])

    links = [a["href"] for a in Elements(render_report(alpha, alpha_user, panel.pk)).all("a")
             if a["href"].startswith(passage + "?")]

    assert links == [passage + "?q=" + "%20".join(["predicate", "novo", "pathway", "novel", "device"])]


def test_cited_words_are_the_claims_words_the_passage_has():
    passage = "Clinical evaluation under MDR needs sufficient clinical data for the intended purpose."
    assert cited_words("MDR clinical data are thin; the intended purpose is broad.", passage) == \
        "mdr clinical data intended purpose"
    assert cited_words("Nothing in common here whatsoever.", passage) == ""
    assert cited_words("Any claim.", None) == ""


def test_model_text_is_sanitised_never_markup(alpha, alpha_user):
    panel = build_completed_panel(alpha, alpha_user)
    html = render_report(alpha, alpha_user, panel.pk)
    page = Elements(html)
    assert not page.all("script") and not page.all("img")
    assert not [attrs for _, attrs in page.tags if any(name.startswith("on") for name in attrs)]
    assert "alert(&#x27;text&#x27;)" not in html and "alert(&#x27;summary&#x27;)" not in html  # nh3 drops them
    assert "<strong>bold claim</strong>" in html  # Markdown still renders
    assert "&lt;b&gt;onerror=alert(1)&lt;/b&gt;" in html  # a dissenter's position is escaped text


def test_the_report_offers_exports_a_follow_up_and_a_rating(alpha, alpha_user):
    panel = build_completed_panel(alpha, alpha_user)
    page = Elements(render_report(alpha, alpha_user, panel.pk))
    hrefs = {a["href"] for a in page.all("a")}
    assert {f"/api/v1/panels/{panel.pk}/export.md", f"/api/v1/panels/{panel.pk}/export.pdf",
            f"/panels/new/?from={panel.pk}"} <= hrefs
    actions = [form["action"] for form in page.all("form", method="post")]
    assert f"/panels/{panel.pk}/rate/" in actions and f"/panels/{panel.pk}/save-template/" in actions
    assert [r["value"] for r in page.all("input", type="radio", name="score")] == ["1", "2", "3", "4", "5"]
    assert page.all("textarea", name="comment")


def test_the_panel_page_shows_the_report_and_a_rating_is_remembered(alpha, alpha_user):
    panel = build_completed_panel(alpha, alpha_user)
    browser = page_client(alpha, alpha_user)
    page = browser.get(f"/panels/{panel.pk}/")
    assert page.status_code == 200 and b'class="chart chart-gauge"' in page.content
    assert browser.post(f"/panels/{panel.pk}/rate/", {"score": "4", "comment": "Clear <b>dissent</b>"}).status_code == 302
    rated = browser.get(f"/panels/{panel.pk}/").content.decode()
    assert "You rated this panel 4 of 5." in rated and "Clear &lt;b&gt;dissent&lt;/b&gt;" in rated
    assert 'name="score"' not in rated


def test_a_panel_run_by_the_offline_provider_reports_in_full(grounded_alpha, alpha_user):
    panel = run_inline(grounded_alpha, alpha_user, panel_type="open", max_rounds=2)
    html = render_report(grounded_alpha, alpha_user, panel.pk)
    page = Elements(html)
    assert {"chart chart-gauge", "chart chart-matrix", "chart chart-stances"} <= {a["class"] for a in page.all("svg")}
    with schema_context("alpha"):
        report = panel_report_data(panel=panel_detail(user=alpha_user, panel_id=panel.pk))
        cited = [c["chunk_id"] for c in report.recommendation.citations]
        passage = reverse("passage", args=[cited[0]])
        members = panel.members.count()
    assert cited and any(a["href"].startswith(passage + "?q=") for a in page.all("a"))
    assert [r.number for r in report.transcript] == [1, 2]
    assert sum(report.stances_by_round[0][1].values()) == members
    assert re.search(r"Round 2: ", html)


def test_the_report_data_counts_each_members_stance_once_per_round(alpha, alpha_user):
    panel = build_completed_panel(alpha, alpha_user, stances=[("support", "oppose", "neutral"),
                                                              ("support", "support", "support")])
    with schema_context("alpha"):
        report = panel_report_data(panel=panel_detail(user=alpha_user, panel_id=panel.pk))
    assert report.stances_by_round == [("Round 1", {"support": 1, "neutral": 1, "oppose": 1}),
                                       ("Round 2", {"support": 3, "neutral": 0, "oppose": 0})]
    assert report.estimates == {} and [d["name"] for d in report.dissent] == [HOSTILE_NAME]
    assert [[s.chunk_id for s in e.sources] for e in report.transcript[0].entries] == [[41, 42], [41], [41]]
