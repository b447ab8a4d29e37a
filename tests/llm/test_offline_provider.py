"""The offline provider: deterministic, honest, and derived from its inputs."""

import dataclasses
import json

from llm.providers import llm_client
from llm.base import ChatRequest, Message
from panels.orchestration.experts import ExpertBrief, Source, ask_expert, build_request
from llm.offline import DISCLOSURE, OfflineProvider
from panels.orchestration.experts import PeerView
from tests.llm.conftest import REGULATORY, SOURCES, expert_task


def offline_answer(task):
    answer, calls = ask_expert(llm_client(provider=OfflineProvider()), task)
    return answer, calls


def test_same_input_same_output():
    first = OfflineProvider().complete(build_request(expert_task()))
    second = OfflineProvider().complete(build_request(expert_task()))
    assert first == second


def test_it_says_what_it_is_and_cites_only_what_it_was_given():
    answer, calls = offline_answer(expert_task())
    assert answer.statement.startswith(DISCLOSURE)
    assert set(answer.citations) <= {"c1", "c2"} and answer.citations
    for source_id in answer.citations:
        assert f"[{source_id}]" in answer.statement
    assert calls[0].usage.provider == "offline" and calls[0].usage.cost == 0


def test_it_quotes_the_source_passages_and_raises_the_experts_considerations():
    answer, _ = offline_answer(expert_task())
    assert 'From "US device pathways": "' in answer.statement and "De Novo" in answer.statement
    assert any("De Novo is the route when no predicate exists" in point for point in answer.key_points)


def test_different_sources_change_the_answer():
    other = (Source("z9", "Payer evidence", "Budget impact models need a three to five year horizon for payers."),)
    with_sources, _ = offline_answer(expert_task())
    unrelated, _ = offline_answer(expert_task(sources=other))
    assert with_sources.statement != unrelated.statement
    assert unrelated.citations == [] and "rests on the expert profile alone" in unrelated.statement
    assert unrelated.confidence < with_sources.confidence


def test_stance_follows_disposition_role_and_the_risk_in_the_evidence():
    risky = (Source("r1", "Safety", "Serious safety risk, insufficient evidence, bias and failure of validation "
                    "remain a concern; the FDA may reject a submission with these gaps."),)
    skeptic = dataclasses.replace(REGULATORY, disposition="skeptic")
    advocate = dataclasses.replace(REGULATORY, disposition="advocate")
    opposed, _ = offline_answer(expert_task(expert=skeptic, sources=risky))
    supportive, _ = offline_answer(expert_task(expert=advocate, role="pro"))
    assert opposed.stance == "oppose" and opposed.action in {"stop", "caution"}
    assert supportive.stance == "support" and supportive.action == "proceed"


def test_it_reacts_to_peers_by_content():
    peers = (PeerView(name="Dr. Chen", stance="oppose", position="De Novo is slower; a 510(k) with a predicate is safer."),)
    answer, _ = offline_answer(expert_task(peers=peers, kind="rebuttal", round_number=2))
    assert "Dr. Chen" in answer.statement


def test_delphi_estimates_move_toward_the_group():
    alone, _ = offline_answer(expert_task(wants_estimate=True, kind="estimate"))
    peers = tuple(PeerView(name=f"P{i}", stance="support", position="Go.", estimate=0.95) for i in range(3))
    with_group, _ = offline_answer(expert_task(wants_estimate=True, kind="estimate", peers=peers, round_number=2))
    assert alone.estimate is not None and 0 <= alone.estimate <= 1
    assert abs(with_group.estimate - 0.95) < abs(alone.estimate - 0.95)


def test_a_free_form_request_is_answered_honestly():
    text, _, _ = OfflineProvider().complete(ChatRequest(system="s", messages=(Message("user", "Write a poem"),)))
    assert text.startswith(DISCLOSURE) and "structured expert turns only" in text
    assert not text.lstrip().startswith("{")


def test_output_is_valid_json_of_the_expert_schema():
    text, _, _ = OfflineProvider().complete(build_request(expert_task(expert=ExpertBrief(
        slug="x", name="X", title="Generalist", domain="commercial", system_prompt="p"))))
    data = json.loads(text)
    assert {"statement", "position", "stance", "confidence", "key_points", "citations"} <= set(data)
