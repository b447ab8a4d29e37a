"""Ranking picks the experts a professional would pick; each tenant steers only its own."""

import pytest
import yaml
from django_tenants.utils import schema_context

from agents.catalog.loader import CATALOG_DIR
from agents.models import Agent
from agents.ranking import rank_agents
from panels.types.adversarial import ADVERSARIAL
from agents.tenant.services import agent_rating_record, agent_usage_record, preferences_set

pytestmark = pytest.mark.django_db

DEVICE_QUESTION = "Should we file a De Novo or a 510(k) for our AI-based ECG arrhythmia detection software?"


def ranked_slugs(schema, question=DEVICE_QUESTION, **options):
    with schema_context(schema):
        return [item.agent.slug for item in rank_agents(question=question, **options)]


def test_a_device_question_gets_device_regulatory_experts_with_reasons(catalog, alpha):
    with schema_context("alpha"):
        ranked = rank_agents(question=DEVICE_QUESTION, k=5)
    assert len(ranked) == 5
    assert ranked[0].score == max(r.score for r in ranked)
    assert {"fda-510k-specialist", "fda-de-novo-strategist", "samd-ai-regulatory-lead"} & {r.agent.slug for r in ranked}
    assert all(r.reasons and r.reasons[0].startswith("Profile matches the question") for r in ranked)


def test_precision_at_5_on_the_labelled_questions(catalog, alpha):
    questions = yaml.safe_load((CATALOG_DIR.parent / "evaluation" / "ranking_questions.yaml").read_text())["questions"]
    assert len(questions) >= 40
    with schema_context("alpha"):
        hits = [len({r.agent.slug for r in rank_agents(question=q["question"], k=5)} & set(q["expected"])) / 5
                for q in questions]
    assert sum(hits) / len(hits) >= 0.35  # measured 0.40-0.44; a floor against regressions


def test_preferring_an_agent_lifts_it_for_that_tenant_only(catalog, alpha, beta):
    baseline = ranked_slugs("alpha", k=12, diverse=False)
    target = baseline[6]
    domain = Agent.objects.get(slug=target).domain
    with schema_context("alpha"):
        preferences_set(preferred={domain: [target]}, disabled=[])
        ranked = rank_agents(question=DEVICE_QUESTION, k=12, diverse=False)
    lifted = next(r for r in ranked if r.agent.slug == target)
    assert [r.agent.slug for r in ranked].index(target) < 6
    assert any("Preferred by your organisation" in reason for reason in lifted.reasons)
    assert ranked_slugs("beta", k=12, diverse=False) == baseline


def test_disabled_agents_are_never_returned_and_only_for_that_tenant(catalog, alpha, beta):
    top = ranked_slugs("alpha", k=5)
    with schema_context("alpha"):
        preferences_set(preferred={}, disabled=top[:2])
    assert not set(top[:2]) & set(ranked_slugs("alpha", k=12))
    assert set(top[:2]) <= set(ranked_slugs("beta", k=5))


def test_usage_and_ratings_boost_within_the_tenant_only(catalog, alpha, beta):
    baseline = ranked_slugs("alpha", k=12, diverse=False)
    target = Agent.objects.get(slug=baseline[9])
    with schema_context("alpha"):
        for _ in range(20):
            agent_usage_record(agents=[target])
        agent_rating_record(agents=[target], score=5)
        ranked = rank_agents(question=DEVICE_QUESTION, k=12, diverse=False)
    boosted = next(r for r in ranked if r.agent.slug == target.slug)
    assert [r.agent.slug for r in ranked].index(target.slug) < 9
    assert any("Used 20 times here, rated 5.0/5 (+0.50)" == reason for reason in boosted.reasons)
    assert ranked_slugs("beta", k=12, diverse=False) == baseline


def test_a_panel_keeps_domain_diversity_unless_one_domain_is_asked(catalog, alpha):
    with schema_context("alpha"):
        diverse = rank_agents(question=DEVICE_QUESTION, k=5)
        focused = rank_agents(question=DEVICE_QUESTION, k=5, domains=["regulatory_affairs"])
    domains = [r.agent.domain for r in diverse]
    assert max(domains.count(d) for d in domains) <= 2
    assert {r.agent.domain for r in focused} == {"regulatory_affairs"} and len(focused) == 5


def test_adversarial_panels_get_a_moderator_and_both_sides(catalog, alpha):
    with schema_context("alpha"):
        ranked = rank_agents(question="Should we launch our biosimilar at risk before the patent case is decided?",
                             k=5, role_plan=ADVERSARIAL.role_plan)
    roles = [r.role for r in ranked]
    assert roles[0] == "moderator" and roles.count("pro") == 2 and roles.count("con") == 2
    for r in ranked:
        allowed = {"moderator": {"balanced"}, "pro": {"advocate", "balanced"}, "con": {"skeptic", "balanced"}}[r.role]
        assert r.agent.disposition in allowed
    assert sum(r.agent.disposition == "advocate" for r in ranked if r.role == "pro") >= 1
    assert sum(r.agent.disposition == "skeptic" for r in ranked if r.role == "con") >= 1


@pytest.mark.parametrize("options", [{}, {"domains": ["regulatory_affairs", "clinical_development"]},
                                     {"disabled": ["fda-510k-specialist"]}])
def test_a_catalog_within_the_pool_is_scored_as_the_nearest_pool_path_scores_it(catalog, alpha, options):
    from llm.embeddings import get_embedder
    from agents.ranking import ranking_reads, score_catalog, score_nearest

    vector = get_embedder().embed([DEVICE_QUESTION])[0]
    domains = options.get("domains")
    with schema_context("alpha"):
        preferences_set(preferred={}, disabled=options.get("disabled", []))
        steering, whole = ranking_reads(question=DEVICE_QUESTION, domains=domains, pool=200)
        from_nearest = score_nearest(question=DEVICE_QUESTION, vector=vector, domains=domains,
                                     exclude=steering.disabled, pool=200)
    assert steering.disabled == frozenset(options.get("disabled", []))
    assert whole is not None and 0 < len(whole.copies) <= Agent.objects.filter(is_active=True).count()
    from_catalog = score_catalog(whole, vector=vector)
    # Similarities computed here (float64) and by pgvector (float32, from the vector's
    # 6-decimal text) agree to about 1e-6.
    nearest = {c.id: c for c in from_nearest.candidates}
    assert {c.id for c in from_catalog.candidates} == set(nearest)
    for candidate in from_catalog.candidates:
        twin = nearest[candidate.id]
        assert candidate.relevance == pytest.approx(twin.relevance, abs=1e-5)
        assert (candidate.version, candidate.slug, candidate.domain, candidate.disposition,
                candidate.incompatible_agents) == (twin.version, twin.slug, twin.domain, twin.disposition,
                                                   twin.incompatible_agents)
    assert from_catalog.question_lexemes == from_nearest.question_lexemes >= {"510", "softwar", "ecg"}
    if "disabled" in options:
        assert "fda-510k-specialist" not in {c.slug for c in from_catalog.candidates}
    if domains:
        assert {c.domain for c in from_catalog.candidates} <= set(domains)


def test_a_catalog_larger_than_the_pool_is_searched_by_nearest_agents_plus_those_usage_lifts(catalog, alpha):
    from llm.embeddings import get_embedder
    from agents.ranking import ranking_reads, score_nearest

    with schema_context("alpha"):
        assert ranking_reads(question=DEVICE_QUESTION, pool=20)[1] is None
    vector = get_embedder().embed([DEVICE_QUESTION])[0]
    nearest = score_nearest(question=DEVICE_QUESTION, vector=vector, pool=20).candidates
    assert len(nearest) == 20
    far = Agent.objects.filter(is_active=True).exclude(id__in=[c.id for c in nearest]).first()
    lifted = score_nearest(question=DEVICE_QUESTION, vector=vector, pool=20, steered=[far.id]).candidates
    assert len(lifted) == 21 and far.id in {c.id for c in lifted}


def test_ranking_a_catalog_within_the_pool_reads_no_vectors_once_the_process_has_copies(catalog, alpha):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with schema_context("alpha"):
        first = rank_agents(question=DEVICE_QUESTION, k=5)
        with CaptureQueriesContext(connection) as queries:
            again = rank_agents(question=DEVICE_QUESTION, k=5)
    sql = [query["sql"] for query in queries.captured_queries]
    assert [r.agent.slug for r in again] == [r.agent.slug for r in first] and len(again) == 5
    assert not any("hnsw.ef_search" in statement for statement in sql)  # the catalog path was taken
    # One round trip (after django-tenants' SET search_path): the tenant's steering and
    # the catalog; no similarity or winners query after the embedding.
    assert len(sql) == 2 and sql[0].startswith("SET search_path"), sql
    assert "agentpreferences" in sql[1] and "agentusage" in sql[1] and "ts_rank" in sql[1]
