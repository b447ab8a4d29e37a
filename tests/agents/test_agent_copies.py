"""Ranking keeps copies of catalog agents in the process (agents.copies): every change to
an agent's row, however it is made, is in the next ranking."""

import pytest
from django_tenants.utils import schema_context

from agents import copies
from agents.models import Agent
from llm.embeddings import get_embedder
from agents.ranking import rank_agents

pytestmark = pytest.mark.django_db

QUESTION = "Should we file a De Novo or a 510(k) for our AI-based ECG arrhythmia detection software?"


def ranked(question=QUESTION, **options):
    options.setdefault("k", 5)
    with schema_context("alpha"):
        return rank_agents(question=question, **options)


def test_an_edit_saved_as_the_admin_saves_it_is_in_the_next_ranking(catalog, alpha):
    top = Agent.objects.get(pk=ranked()[0].agent.pk)
    top.title = "Renamed once"
    top.save()
    assert ranked()[0].agent.title == "Renamed once"
    top.title = "Renamed twice in the same transaction"  # same xmin, new row version
    top.save()
    assert ranked()[0].agent.title == "Renamed twice in the same transaction"


def test_a_bulk_update_that_skips_save_is_seen_too(catalog, alpha):
    top = ranked()[0].agent
    Agent.objects.filter(pk=top.pk).update(name="Dr. Bulk", capabilities=["Edited in bulk"])
    again = ranked()[0].agent
    assert (again.pk, again.name, again.capabilities) == (top.pk, "Dr. Bulk", ["Edited in bulk"])


def test_only_the_changed_agent_is_read_again(catalog, alpha):
    ranked()
    held = dict(copies._copies)
    top = ranked()[0].agent
    Agent.objects.filter(pk=top.pk).update(name="Dr. Changed")
    ranked()
    assert [agent_id for agent_id, copy in copies._copies.items() if held.get(agent_id) is not copy] == [top.pk]


def test_a_new_embedding_changes_the_similarity(catalog, alpha):
    shown = {r.agent.slug for r in ranked(k=12, diverse=False)}
    far = Agent.objects.filter(is_active=True).exclude(slug__in=shown).order_by("slug").first()
    Agent.objects.filter(pk=far.pk).update(embedding=get_embedder().embed([QUESTION])[0])
    now = {r.agent.slug: r for r in ranked()}
    assert far.slug in now
    assert "similarity 1.00" in now[far.slug].reasons[0]


def test_a_retired_agent_leaves_the_next_ranking(catalog, alpha):
    top = ranked()[0].agent
    Agent.objects.filter(pk=top.pk).update(is_active=False)
    assert top.slug not in {r.agent.slug for r in ranked(k=12, diverse=False)}


def test_each_caller_gets_its_own_agent_instances_and_lists(catalog, alpha, beta):
    first = ranked()[0].agent
    capabilities = list(first.capabilities)
    first.title = "changed by a caller"
    first.capabilities.append("appended in place by a caller")
    with schema_context("beta"):
        other = rank_agents(question=QUESTION, k=5)[0].agent
    assert other.pk == first.pk
    assert other.title != "changed by a caller" and other.capabilities == capabilities


def test_copies_stay_bounded_and_ranking_does_not_change(catalog, alpha, monkeypatch):
    questions = [QUESTION, "How should we price a new oncology drug in Germany?",
                 "What does GDPR require before we reuse trial data for AI training?"]
    expected = [[(r.agent.slug, r.score, r.reasons) for r in ranked(q)] for q in questions]
    monkeypatch.setattr(copies, "MAX_COPIES", 20)
    copies._copies.clear()  # as in a fresh process with this cap
    for _ in range(2):
        for question, before in zip(questions, expected):
            assert [(r.agent.slug, r.score, r.reasons) for r in ranked(question)] == before
            assert len(copies._copies) <= 20


def test_incompatible_agents_are_matched_by_whole_slug(catalog, alpha):
    """The JSON lists are parsed (a cursor returns them as text; a substring test would
    then take "fda-510k" for "fda-510k-specialist")."""
    from agents.ranking import Candidate, _compatible

    ids = dict(Agent.objects.filter(slug__in=["fda-510k-specialist", "fda-pma-specialist"]).values_list("slug", "id"))
    held = copies.agent_copies({agent_id: version for agent_id, version in _versions(ids.values())})
    assert held[ids["fda-510k-specialist"]].incompatible_agents == ["fda-pma-specialist"]

    def candidate(slug, incompatible):
        return Candidate(id=0, version="", slug=slug, domain="regulatory_affairs", disposition="balanced",
                         incompatible_agents=incompatible, similarity=0.0, relevance=0.0)

    specialist = candidate("fda-510k-specialist", held[ids["fda-510k-specialist"]].incompatible_agents)
    assert not _compatible(candidate("fda-pma-specialist", []), [specialist])
    assert _compatible(candidate("fda-pma", []), [specialist])
    seated = {r.agent.slug for r in ranked("510(k) or PMA for our class II/III cardiac device?", k=12, diverse=False)}
    assert not {"fda-510k-specialist", "fda-pma-specialist"} <= seated


def _versions(ids):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT a.id, {copies.VERSION} FROM agents_agent a WHERE a.id = ANY(%s)", [list(ids)])
        return cursor.fetchall()
