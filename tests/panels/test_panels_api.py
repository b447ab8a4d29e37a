"""The panels API on panels run in-process (the worker's code, without the worker)."""

import pytest
from django_tenants.utils import schema_context

from agents.tenant.models import AgentUsage
from llm.models import LLMCall
from panels.models import Contribution, Panel
from panels.orchestration.experts import ask_expert
from panels.services import panel_cancel
from tests.conftest import api_client, make_token
from tests.factories import make_panel, make_user
from tests.panels.conftest import run_inline

pytestmark = pytest.mark.django_db


@pytest.fixture
def finished(grounded_alpha, alpha_user):
    return run_inline(grounded_alpha, alpha_user, panel_type="structured")


def test_a_finished_panel_shows_everything(finished, alpha_api):
    body = alpha_api.get(f"/api/v1/panels/{finished.pk}/").json()
    assert body["status"] == "completed"
    assert [r["number"] for r in body["rounds"]] == [1, 2]
    assert all(len(r["contributions"]) == len(body["members"]) for r in body["rounds"])
    first = body["rounds"][0]["contributions"][0]
    assert {"member", "kind", "text", "position", "stance", "confidence", "citations", "usage"} <= set(first)
    consensus = body["consensus"]
    assert 0 <= consensus["score"] <= 1 and consensus["level"] in {"high", "medium", "low"}
    assert len(consensus["matrix"]["values"]) == len(body["members"])
    recommendation = body["recommendation"]
    assert recommendation["action"] in {"proceed", "caution", "stop", "investigate"} and recommendation["summary"]
    assert body["usage"]["tokens"] > 0


def test_citations_are_verified_and_resolve_to_the_tenants_chunks(finished, alpha_api):
    body = alpha_api.get(f"/api/v1/panels/{finished.pk}/").json()
    cited = [c for r in body["rounds"] for item in r["contributions"] for c in item["citations"]]
    assert cited and all(c.startswith("C") for c in cited)
    assert {c["document_title"] for c in body["recommendation"]["citations"]} == {"Device pathways note"}


def test_every_call_is_accounted_to_the_panel_and_agents_usage_is_counted(finished):
    with schema_context("alpha"):
        calls = LLMCall.objects.filter(purpose=f"panel:{finished.pk}")
        contributions = Contribution.objects.filter(panel=finished)
        assert calls.count() >= contributions.count() + 1  # every turn + the synthesis
        assert sum(c.total_tokens for c in calls) == Panel.objects.get(pk=finished.pk).tokens_used
        assert AgentUsage.objects.filter(use_count=1).count() == finished.members.count()


def test_events_poll_after_a_sequence_number(finished, alpha_api):
    everything = alpha_api.get(f"/api/v1/panels/{finished.pk}/events/").json()
    kinds = [e["kind"] for e in everything["events"]]
    assert kinds[0] == "status" and "round_started" in kinds and "contribution" in kinds and kinds[-1] == "status"
    assert everything["status"] == "completed"
    middle = everything["events"][5]["seq"]
    later = alpha_api.get(f"/api/v1/panels/{finished.pk}/events/", {"after": middle}).json()
    assert [e["seq"] for e in later["events"]] == [e["seq"] for e in everything["events"] if e["seq"] > middle]


def test_events_stream_as_server_sent_events(finished, alpha_api):
    response = alpha_api.get(f"/api/v1/panels/{finished.pk}/events/", HTTP_ACCEPT="text/event-stream")
    assert response["Content-Type"] == "text/event-stream"
    stream = b"".join(response.streaming_content).decode()
    assert "event: round_started" in stream and "event: end" in stream


def test_a_reconnecting_event_source_resumes_after_its_last_event_id(finished, alpha_api):
    url = f"/api/v1/panels/{finished.pk}/events/"
    ids = [int(line[4:]) for line in b"".join(alpha_api.get(url, HTTP_ACCEPT="text/event-stream").streaming_content)
           .decode().splitlines() if line.startswith("id: ")]
    middle = ids[len(ids) // 2]

    resumed = b"".join(alpha_api.get(url, HTTP_ACCEPT="text/event-stream", HTTP_LAST_EVENT_ID=str(middle))
                       .streaming_content).decode()

    resumed_ids = [int(line[4:]) for line in resumed.splitlines() if line.startswith("id: ")]
    assert resumed_ids == [seq for seq in ids if seq > middle]
    assert "event: end" in resumed


def test_a_malformed_last_event_id_is_a_400(finished, alpha_api):
    response = alpha_api.get(f"/api/v1/panels/{finished.pk}/events/", HTTP_LAST_EVENT_ID="soon")
    assert response.status_code == 400
    assert response.json()["error"]["code"]


def test_list_shows_own_panels_with_filters(finished, alpha, alpha_api):
    other = make_user(alpha, "someone-else")
    run_inline(alpha, other, panel_type="open")
    mine = alpha_api.get("/api/v1/panels/").json()
    assert mine["count"] == 1 and mine["results"][0]["id"] == finished.pk
    assert alpha_api.get("/api/v1/panels/", {"status": "completed"}).json()["count"] == 1
    assert alpha_api.get("/api/v1/panels/", {"panel_type": "open"}).json()["count"] == 0
    admin = api_client(alpha, token=make_token(alpha, make_user(alpha, "boss", is_admin=True)))
    assert admin.get("/api/v1/panels/").json()["count"] == 2


def test_cancel_a_running_panel_and_409_when_final(catalog, alpha, alpha_api, finished):
    assert alpha_api.post(f"/api/v1/panels/{finished.pk}/cancel/").status_code == 409
    created = alpha_api.post("/api/v1/panels/", {"query": "Should we run a DCT for our phase 3?",
                                                  "panel_type": "open"}, format="json").json()
    response = alpha_api.post(f"/api/v1/panels/{created['id']}/cancel/")
    assert response.status_code == 200 and response.json()["status"] == "cancelled"


def test_a_cancelled_panel_stops_between_calls(grounded_alpha, alpha_user, monkeypatch):
    from panels.orchestration import runner

    panel = make_panel(grounded_alpha, alpha_user, query="Should we run a DCT for our phase 3?")
    asked = []

    def ask_then_cancel(client, task):  # the second expert's turn is where a user cancels
        asked.append(task)
        if len(asked) == 2:
            panel_cancel(panel=Panel.objects.get(pk=panel.pk))
        return ask_expert(client, task)

    monkeypatch.setattr(runner, "ask_expert", ask_then_cancel)
    with schema_context("alpha"):
        result = runner.panel_run(panel_id=panel.pk)
        assert result.status == "CANCELLED"
        assert len(asked) == 2  # structured round 1 is sequential: the third expert was never asked
        assert Contribution.objects.filter(panel=panel).count() == 2  # what was said is kept


def test_rating_feeds_agent_usage_and_only_once(finished, alpha_api):
    response = alpha_api.post(f"/api/v1/panels/{finished.pk}/rating/", {"score": 5, "comment": "Useful"}, format="json")
    assert response.status_code == 201
    with schema_context("alpha"):
        assert set(AgentUsage.objects.values_list("avg_rating", flat=True)) == {5.0}
    assert alpha_api.post(f"/api/v1/panels/{finished.pk}/rating/", {"score": 4}, format="json").status_code == 409
    assert alpha_api.post(f"/api/v1/panels/{finished.pk}/rating/", {"score": 9}, format="json").status_code == 400


def test_exports(finished, alpha_api):
    markdown = alpha_api.get(f"/api/v1/panels/{finished.pk}/export.md")
    assert markdown.status_code == 200 and markdown["Content-Type"].startswith("text/markdown")
    text = markdown.content.decode()
    for section in ("# Panel report:", "## Recommendation", "## Consensus", "## Dissent", "## Transcript",
                    "## Sources cited", "Device pathways note"):
        assert section in text
    pdf = alpha_api.get(f"/api/v1/panels/{finished.pk}/export.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def test_human_input_only_while_awaiting_it(finished, alpha_api):
    response = alpha_api.post(f"/api/v1/panels/{finished.pk}/human-input/",
                              {"expert_name": "Dr. Human", "text": "I have seen this device class before."}, format="json")
    assert response.status_code == 409 and response.json()["error"]["code"] == "not_awaiting_input"


ENDPOINTS = [("get", "/api/v1/panels/{id}/"), ("post", "/api/v1/panels/{id}/cancel/"),
             ("get", "/api/v1/panels/{id}/events/"), ("post", "/api/v1/panels/{id}/rating/"),
             ("post", "/api/v1/panels/{id}/human-input/"), ("get", "/api/v1/panels/{id}/export.md"),
             ("get", "/api/v1/panels/{id}/export.pdf")]


@pytest.mark.parametrize("method, path", ENDPOINTS)
def test_another_tenant_cannot_reach_a_panel_by_host_header_or_id(finished, beta, beta_api, method, path, ):
    url = path.format(id=finished.pk)
    body = {"score": 1, "expert_name": "x", "text": "an attempt to write"} if method == "post" else None
    assert getattr(beta_api, method)(url, body, format="json").status_code == 404
    via_header = api_client(token=make_token(beta, make_user(beta, f"b-{method}-{len(path)}")), HTTP_X_TENANT_ID="beta")
    assert getattr(via_header, method)(url, body, format="json").status_code == 404
    assert beta_api.get("/api/v1/panels/").json()["count"] == 0
    with schema_context("alpha"):
        assert Panel.objects.get(pk=finished.pk).status == "COMPLETED"


@pytest.mark.parametrize("method, path", ENDPOINTS + [("get", "/api/v1/panels/")])
def test_panels_endpoints_require_authentication(alpha, method, path):
    assert getattr(api_client(alpha), method)(path.format(id=1)).status_code == 401


def test_each_expert_retrieves_once_with_its_own_recorded_search(finished):
    from rag.models import SearchRecord

    with schema_context("alpha"):
        records = SearchRecord.objects.filter(purpose=f"panel:{finished.pk}")
        members = list(finished.members.select_related("agent"))
        assert records.count() == len(members)
        for member in members:  # the full-text side names the expert's expertise
            assert records.filter(query__contains=member.agent.title).exists()


def test_a_second_panel_counts_each_agent_once_more():
    from agents.models import Agent
    from agents.tenant.services import agent_usage_record

    with schema_context("alpha"):
        used_before, new = Agent.objects.filter(is_active=True).order_by("slug")[:2]
        agent_usage_record(agents=[used_before])
        agent_usage_record(agents=[used_before, new, new])

        assert AgentUsage.objects.get(agent=used_before).use_count == 2
        assert AgentUsage.objects.get(agent=new).use_count == 1
        assert AgentUsage.objects.get(agent=new).last_used_at is not None


def test_the_expertise_vector_leans_toward_the_profile_and_stays_unit_length():
    import numpy as np

    from panels.orchestration.runner import expertise_vector

    question, profile = np.array([1.0, 0.0, 0.0], dtype=np.float32), np.array([0.0, 1.0, 0.0], dtype=np.float32)
    steered = expertise_vector(question, profile)

    assert np.linalg.norm(steered) == pytest.approx(1.0)
    assert steered[0] > steered[1] > 0  # still mostly the question
    assert expertise_vector(question, None) is question


def test_a_panel_without_chosen_experts_seats_the_ranking_with_no_filler(catalog, alpha, alpha_api):
    from agents.ranking import rank_agents
    from panels.types import REGISTRY

    question = "We see three cases of liver injury with jaundice in our phase 2; is this a hepatotoxicity signal?"
    kind = REGISTRY["open"]
    created = alpha_api.post("/api/v1/panels/", {"query": question, "panel_type": "open"}, format="json")
    assert created.status_code == 201, created.content
    with schema_context("alpha"):
        ranked = rank_agents(question=question, k=kind.default_experts, minimum=kind.min_experts)
        seated = list(Panel.objects.get(pk=created.json()["id"]).members.order_by("seat")
                      .values_list("agent__slug", flat=True))
    assert seated == [r.agent.slug for r in ranked]
    assert kind.min_experts <= len(seated) <= kind.default_experts
    floor = 0.6 * ranked[0].relevance
    assert all(r.relevance >= floor or any("seated to reach the panel's minimum" in reason for reason in r.reasons)
               for r in ranked)
