"""Analytics (`advanced_analytics`): exact figures from panels the test creates, the API's
refusals (plan, members, bad dates) and tenant isolation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from django_tenants.utils import schema_context

from agents.models import Agent
from panels.analytics import analytics_get, analytics_range, iso_week, week_starts
from panels.models import (
    Consensus,
    Contribution,
    Panel,
    PanelMember,
    PanelRating,
    Round,
)
from rag.models import Chunk
from tenants.selectors import routing_cache_clear
from tests.conftest import api_client, make_token, make_user
from tests.factories import make_document

pytestmark = pytest.mark.django_db

FROM, TO = date(2026, 1, 5), date(2026, 1, 25)  # ISO weeks 2026-W02 to W04
DISSENTER = [{"member_id": 0, "name": "x", "role": "expert", "stance": "oppose", "position": "no", "confidence": 0.8,
              "agreement_with_panel": 0.2, "reasons": ["no"]}]


def at(day: int, month: int = 1, hour: int = 10) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


def build_panel(tenant, owner, *, created: datetime, panel_type="structured", status=Panel.Status.COMPLETED,
                seconds: int | None = None, tokens: int = 0, agents=(), human: str = "",
                consensus: tuple[float, str, bool] | None = None, ratings=(), citations=()) -> Panel:
    """A panel as a run leaves it: members, one round whose first contributions cite
    `citations` (one list per member), a consensus (score, level, dissent?) and ratings
    (score per rater)."""
    with schema_context(tenant.schema_name):
        panel = Panel.objects.create(query="Which regulatory pathway fits the ECG software?", panel_type=panel_type,
                                     owner=owner, tenant_schema=tenant.schema_name, status=status, tokens_used=tokens,
                                     started_at=created if seconds is not None else None,
                                     finished_at=created + timedelta(seconds=seconds) if seconds is not None else None)
        Panel.objects.filter(pk=panel.pk).update(created_at=created)
        members = [PanelMember.objects.create(panel=panel, seat=seat, agent=agent) for seat, agent in enumerate(agents)]
        if human:
            members.append(PanelMember.objects.create(panel=panel, seat=len(members), human_name=human))
        round_ = Round.objects.create(panel=panel, number=1, title="Positions", state=Round.State.COMPLETED)
        for member, cited in zip(members, citations):
            Contribution.objects.create(panel=panel, round=round_, member=member, kind=Contribution.Kind.STATEMENT,
                                        text="A position.", stance="support", citations=cited)
        if consensus:
            score, level, dissent = consensus
            Consensus.objects.create(panel=panel, score=score, level=level, threshold=0.7, reached=score >= 0.7,
                                     majority_stance="support", dissent=DISSENTER if dissent else [])
        for index, score in enumerate(ratings):
            PanelRating.objects.create(panel=panel, user=make_user(tenant, f"rater-{panel.pk}-{index}"), score=score)
        return panel


@dataclass
class Seeded:
    agents: list
    documents: dict  # title -> Document


@pytest.fixture
def seeded(alpha, catalog, media_root) -> Seeded:
    """Alpha's panels: four created in the range (W02: 2, W03: 2), two outside it."""
    owner = make_user(alpha, "owner")
    a, b, c = Agent.objects.filter(is_active=True).order_by("slug")[:3]
    device = make_document(alpha, "device.md", b"# Device pathways\n\nThe De Novo pathway classifies low-risk novel "
                                               b"devices into Class II.", title="Device pathways note", user=owner)
    memo = make_document(alpha, "memo.md", b"# Clinical evidence\n\nA clinical study supports the claim of "
                                           b"arrhythmia detection.", title="Clinical evidence memo", user=owner)
    with schema_context("alpha"):
        device_chunk = f"C{Chunk.objects.filter(document=device).first().pk}"
        memo_chunk = f"C{Chunk.objects.filter(document=memo).first().pk}"
    build_panel(alpha, owner, created=at(5), seconds=120, tokens=1000, agents=(a, b, c),
                consensus=(0.9, "high", False), ratings=(5, 3), citations=([device_chunk, memo_chunk], [device_chunk]))
    build_panel(alpha, owner, created=at(7), panel_type="open", seconds=300, tokens=3000, agents=(a, b),
                consensus=(0.6, "medium", True), ratings=(2,), citations=([device_chunk],))
    build_panel(alpha, owner, created=at(14), seconds=600, tokens=2000, agents=(a,),
                consensus=(0.3, "low", True), ratings=(1,), citations=(["C999999999", "not a citation"],))
    build_panel(alpha, owner, created=at(15), panel_type="delphi", status=Panel.Status.FAILED, seconds=50,
                tokens=500, human="Dr. Human")
    # Outside the range: the day after it ends, and the day before it starts.
    build_panel(alpha, owner, created=at(26), seconds=60, tokens=99_999, agents=(a, b, c),
                consensus=(0.95, "high", True), ratings=(5,), citations=([memo_chunk],))
    build_panel(alpha, owner, created=at(4, hour=23), status=Panel.Status.CANCELLED, agents=(c,))
    return Seeded(agents=[a, b, c], documents={"device": device, "memo": memo})


def admin_api(tenant, username="boss"):
    return api_client(tenant, token=make_token(tenant, make_user(tenant, username, is_admin=True)))


def analytics_of(client, **params):
    return client.get("/api/v1/analytics/", {"from": FROM.isoformat(), "to": TO.isoformat(), **params})


# --- the figures ---------------------------------------------------------------------------


def test_panels_per_iso_week_by_type_and_status(seeded):
    with schema_context("alpha"):
        analytics = analytics_get(start=FROM, end=TO)
    assert analytics.total == 4
    assert [(w.week, w.starts_on, w.total, w.by_type, w.by_status) for w in analytics.weeks] == [
        ("2026-W02", date(2026, 1, 5), 2, {"structured": 1, "open": 1}, {"completed": 2}),
        ("2026-W03", date(2026, 1, 12), 2, {"structured": 1, "delphi": 1}, {"completed": 1, "failed": 1}),
        ("2026-W04", date(2026, 1, 19), 0, {}, {}),
    ]


def test_consensus_levels_and_mean_score_per_week(seeded):
    with schema_context("alpha"):
        consensus = analytics_get(start=FROM, end=TO).consensus
    assert [(w.week, w.count, w.mean_score, w.levels) for w in consensus] == [
        ("2026-W02", 2, 0.75, {"high": 1, "medium": 1, "low": 0}),
        ("2026-W03", 1, 0.3, {"high": 0, "medium": 0, "low": 1}),
        ("2026-W04", 0, None, {"high": 0, "medium": 0, "low": 0}),
    ]


def test_median_duration_tokens_and_dissent_of_completed_panels(seeded):
    with schema_context("alpha"):
        completed = analytics_get(start=FROM, end=TO).completed
    assert completed.count == 3  # the failed delphi panel is not one
    assert completed.median_duration_seconds == 300.0  # of 120, 300, 600
    assert completed.median_tokens == 2000  # of 1000, 3000, 2000
    assert (completed.with_dissent, completed.dissent_rate) == (2, 0.6667)


def test_experts_used_most_and_rated_best(seeded):
    a, b, c = seeded.agents
    with schema_context("alpha"):
        analytics = analytics_get(start=FROM, end=TO)
    assert [(e.slug, e.name, e.panels) for e in analytics.experts_used] == [
        (a.slug, a.name, 3), (b.slug, b.name, 2), (c.slug, c.name, 1)]  # the human member is no expert
    # PanelRating per panel the expert sat on: c (5, 3), b (5, 3, 2), a (5, 3, 2, 1).
    assert [(e.slug, e.mean_rating, e.ratings) for e in analytics.experts_rated] == [
        (c.slug, 4.0, 2), (b.slug, 3.33, 3), (a.slug, 2.75, 4)]


def test_documents_cited_most_map_chunks_to_titles(seeded):
    with schema_context("alpha"):
        cited = analytics_get(start=FROM, end=TO).documents_cited
    assert [(d.document_id, d.title, d.citations, d.panels) for d in cited] == [
        (seeded.documents["device"].pk, "Device pathways note", 3, 2),
        (seeded.documents["memo"].pk, "Clinical evidence memo", 1, 1),
    ]


def test_an_empty_range_has_zero_figures(alpha):
    with schema_context("alpha"):
        analytics = analytics_get(start=date(2025, 3, 3), end=date(2025, 3, 9))
    assert (analytics.total, [w.week for w in analytics.weeks]) == (0, ["2025-W10"])
    assert (analytics.completed.count, analytics.completed.median_tokens, analytics.completed.dissent_rate) == (0, None, None)
    assert analytics.experts_used == analytics.experts_rated == analytics.documents_cited == []


def test_the_default_range_is_the_last_12_weeks_and_weeks_cover_it():
    assert analytics_range(today=date(2026, 3, 29)) == (date(2026, 1, 5), date(2026, 3, 29))
    assert [iso_week(day) for day in week_starts(date(2025, 12, 31), date(2026, 1, 5))] == ["2026-W01", "2026-W02"]


# --- the API -------------------------------------------------------------------------------


def test_the_api_gives_the_same_figures(seeded, alpha):
    a, _, c = seeded.agents
    response = analytics_of(admin_api(alpha))
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["from"], body["to"], body["total"]) == ("2026-01-05", "2026-01-25", 4)
    assert body["weeks"][1] == {"week": "2026-W03", "starts_on": "2026-01-12", "total": 2,
                                "by_type": {"structured": 1, "delphi": 1}, "by_status": {"completed": 1, "failed": 1}}
    assert body["consensus"][0] == {"week": "2026-W02", "starts_on": "2026-01-05", "count": 2, "mean_score": 0.75,
                                    "levels": {"high": 1, "medium": 1, "low": 0}}
    assert body["completed"] == {"count": 3, "median_duration_seconds": 300.0, "median_tokens": 2000.0,
                                 "with_dissent": 2, "dissent_rate": 0.6667}
    assert body["experts_used"][0] == {"slug": a.slug, "name": a.name, "panels": 3}
    assert body["experts_rated"][0] == {"slug": c.slug, "name": c.name, "mean_rating": 4.0, "ratings": 2}
    assert [(d["title"], d["citations"], d["panels"]) for d in body["documents_cited"]] == [
        ("Device pathways note", 3, 2), ("Clinical evidence memo", 1, 1)]


def test_without_dates_the_api_answers_for_the_last_12_weeks(alpha):
    body = admin_api(alpha).get("/api/v1/analytics/").json()
    assert len(body["weeks"]) in (12, 13)  # 84 days touch 12 ISO weeks, or 13 unless today is a Sunday
    assert (date.fromisoformat(body["to"]) - date.fromisoformat(body["from"])).days == 83


@pytest.mark.parametrize("params, field", [
    ({"from": "2026-13-01"}, "from"), ({"to": "yesterday"}, "to"), ({"from": ""}, "from"),
])
def test_a_bad_date_is_refused_with_the_field(alpha, params, field):
    response = admin_api(alpha).get("/api/v1/analytics/", params)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid" and field in error["details"]["fields"]
    assert "YYYY-MM-DD" in error["message"]


def test_from_after_to_is_refused(alpha):
    response = admin_api(alpha).get("/api/v1/analytics/", {"from": "2026-02-01", "to": "2026-01-01"})
    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "invalid_range", "message": "The range starts (2026-02-01) after it ends (2026-01-01); swap the dates.",
        "details": {"from": "2026-02-01", "to": "2026-01-01"}}


def test_a_starter_plan_is_refused_with_the_reason(beta):
    response = admin_api(beta).get("/api/v1/analytics/")
    assert response.status_code == 403
    assert response.json()["error"] == {
        "code": "feature_not_in_plan",
        "message": "Analytics are not included in your plan (starter); available on professional and enterprise.",
        "details": {"feature": "advanced_analytics", "tier": "starter"}}


def test_a_member_is_refused(alpha, alpha_api):
    response = alpha_api.get("/api/v1/analytics/")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "admins_only"
    assert "admins" in response.json()["error"]["message"]


def test_anonymous_is_refused(alpha):
    assert api_client(alpha).get("/api/v1/analytics/").status_code == 401


# --- tenants ----------------------------------------------------------------------------


def test_each_tenant_sees_only_its_own_panels(seeded, alpha, beta):
    beta.features = {"advanced_analytics": True}  # beta is starter: given the feature for this test
    beta.save()
    routing_cache_clear()
    a = seeded.agents[0]
    build_panel(beta, make_user(beta, "beta-owner"), created=at(6), seconds=42, tokens=7777, agents=(a,),
                consensus=(0.5, "medium", False), ratings=(4,))
    alpha_body = analytics_of(admin_api(alpha)).json()
    beta_body = analytics_of(admin_api(beta)).json()
    assert (alpha_body["total"], alpha_body["completed"]["count"], alpha_body["completed"]["median_tokens"]) == (
        4, 3, 2000.0)
    assert alpha_body["experts_used"][0]["panels"] == 3
    assert beta_body["total"] == 1
    assert beta_body["weeks"][0]["by_type"] == {"structured": 1}
    assert beta_body["completed"] == {"count": 1, "median_duration_seconds": 42.0, "median_tokens": 7777.0,
                                      "with_dissent": 0, "dissent_rate": 0.0}
    assert beta_body["experts_used"] == [{"slug": a.slug, "name": a.name, "panels": 1}]
    assert beta_body["experts_rated"] == [{"slug": a.slug, "name": a.name, "mean_rating": 4.0, "ratings": 1}]
    assert beta_body["documents_cited"] == []


def test_a_token_of_one_tenant_is_not_valid_on_another_tenants_host(alpha, beta):
    alpha_token = make_token(alpha, make_user(alpha, "boss", is_admin=True))
    response = api_client(beta, token=alpha_token).get("/api/v1/analytics/")
    assert response.status_code == 401


def test_x_tenant_id_naming_another_tenant_is_refused(seeded, alpha, beta):
    client = admin_api(alpha)
    response = client.get("/api/v1/analytics/", HTTP_X_TENANT_ID="beta")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "tenant_mismatch"


def test_x_tenant_id_on_the_platform_host_answers_for_that_tenant_only(seeded, alpha):
    token = make_token(alpha, make_user(alpha, "gateway-admin", is_admin=True))
    body = api_client(token=token, HTTP_X_TENANT_ID="alpha").get(
        "/api/v1/analytics/", {"from": FROM.isoformat(), "to": TO.isoformat()}).json()
    assert body["total"] == 4
