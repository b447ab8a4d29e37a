"""Ranking picks the experts a professional would pick; each tenant steers only its own;
every change to the catalog is in the very next ranking."""

import pytest
from django.db.models import Count
from django_tenants.utils import schema_context

from agents.evaluation import hubness, precision_at_5, questions_load
from agents.models import Agent, AgentExample
from agents.ranking import rank_agents
from agents.services import agent_set_active
from agents.tenant.models import AgentUsage
from agents.tenant.services import agent_rating_record, agent_usage_record, preferences_set
from llm.embeddings import get_embedder
from panels.types.adversarial import ADVERSARIAL

pytestmark = pytest.mark.django_db

# Floors against regressions, below the figures bench/agents.py measured on the test split
# (precision@5 0.450, hubness 12.5%; the goals, 0.60 and 10%, are not reached yet).
PRECISION_FLOOR = 0.42
HUBNESS_CEILING = 0.15
DEVICE_QUESTION = "Should we file a De Novo or a 510(k) for our AI-based ECG arrhythmia detection software?"


def ranked(schema="alpha", question=DEVICE_QUESTION, **options):
    options.setdefault("k", 5)
    with schema_context(schema):
        return rank_agents(question=question, **options)


def ranked_slugs(schema="alpha", question=DEVICE_QUESTION, **options):
    return [item.agent.slug for item in ranked(schema, question, **options)]


def test_a_device_question_gets_device_regulatory_experts_with_reasons(catalog, alpha):
    result = ranked()
    assert len(result) == 5
    assert result[0].score == max(r.score for r in result)
    assert {"fda-510k-specialist", "fda-de-novo-strategist", "samd-ai-regulatory-lead"} & {r.agent.slug for r in result}
    assert all(r.reasons and r.reasons[0].startswith("Profile matches the question") for r in result)
    assert any(reason.startswith("Matches: ") and "510" in reason for r in result for reason in r.reasons)


def test_precision_and_hubness_on_the_test_split(catalog, alpha):
    questions = questions_load("test")
    assert len(questions) >= 60 and len(questions_load()) >= 200
    rankings = [ranked_slugs(question=q["question"]) for q in questions]
    precision = sum(precision_at_5(r, q["expected"]) for r, q in zip(rankings, questions)) / len(questions)
    share, hub = hubness(rankings)
    assert precision >= PRECISION_FLOOR, precision
    assert share <= HUBNESS_CEILING, (share, hub)


def relevant_but_not_first(result):
    """The lowest-placed expert of a ranking still at or above the relevance floor."""
    floor = 0.8 * result[0].relevance
    return [r for r in result[1:] if r.relevance >= floor][-1].agent


def test_preferring_an_agent_lifts_it_for_that_tenant_only(catalog, alpha, beta):
    result = ranked(k=12, diverse=False)
    baseline = [r.agent.slug for r in result]
    target = relevant_but_not_first(result)
    with schema_context("alpha"):
        preferences_set(preferred={target.domain: [target.slug]}, disabled=[])
    result = ranked(k=12, diverse=False)
    lifted = next(r for r in result if r.agent.slug == target.slug)
    assert [r.agent.slug for r in result].index(target.slug) < baseline.index(target.slug)
    assert lifted.score == pytest.approx(lifted.relevance * 1.2, abs=1e-3)
    assert any("Preferred by your organisation for" in reason for reason in lifted.reasons)
    assert ranked_slugs("beta", k=12, diverse=False) == baseline


def test_two_tenants_preferences_never_mix(catalog, alpha, beta):
    baseline = ranked_slugs(k=12, diverse=False)
    alpha_pick, beta_pick = baseline[8], baseline[9]
    with schema_context("alpha"):
        preferences_set(preferred={Agent.objects.get(slug=alpha_pick).domain: [alpha_pick]}, disabled=[])
    with schema_context("beta"):
        preferences_set(preferred={Agent.objects.get(slug=beta_pick).domain: [beta_pick]}, disabled=[])
    for schema, own, other in (("alpha", alpha_pick, beta_pick), ("beta", beta_pick, alpha_pick), ("alpha", alpha_pick, beta_pick)):
        preferred = {r.agent.slug for r in ranked(schema, k=12, diverse=False)
                     if any(reason.startswith("Preferred by your organisation") for reason in r.reasons)}
        assert own in preferred and other not in preferred, schema


def test_a_disabled_agent_is_gone_from_the_next_ranking_of_that_tenant_only(catalog, alpha, beta):
    top = ranked_slugs()
    with schema_context("alpha"):
        preferences_set(preferred={}, disabled=top[:2])
    assert not set(top[:2]) & set(ranked_slugs(k=12))
    assert set(top[:2]) <= set(ranked_slugs("beta"))


def test_usage_and_ratings_boost_within_the_tenant_only(catalog, alpha, beta):
    result = ranked(k=12, diverse=False)
    baseline = [r.agent.slug for r in result]
    target = relevant_but_not_first(result)
    with schema_context("alpha"):
        for _ in range(20):
            agent_usage_record(agents=[target])
        agent_rating_record(agents=[target], score=5)
    result = ranked(k=12, diverse=False)
    boosted = next(r for r in result if r.agent.slug == target.slug)
    assert [r.agent.slug for r in result].index(target.slug) < baseline.index(target.slug)
    assert "Used 20 times here, rated 5.0/5 (x1.20)" in boosted.reasons
    assert ranked_slugs("beta", k=12, diverse=False) == baseline


def test_asking_for_one_domain_keeps_the_panel_in_it(catalog, alpha):
    focused = ranked(domains=["regulatory_affairs"])
    assert {r.agent.domain for r in focused} == {"regulatory_affairs"} and len(focused) == 5


def candidate(slug, domain="regulatory_affairs", relevance=1.0, disposition="balanced", incompatible=()):
    from agents.ranking import Candidate

    return Candidate(id=abs(hash(slug)) % 10**6, slug=slug, domain=domain, disposition=disposition,
                     incompatible_agents=list(incompatible), similarity=0.0, example_similarity=0.0,
                     word_match=0.0, relevance=relevance, score=relevance)


def pick(ranked, k=5, minimum=None, floor=0.6, margin=0.9, diverse=True):
    from agents.ranking import _pick

    return _pick(ranked, seats=[("expert", None)] * k, minimum=k if minimum is None else minimum, floor=floor,
                 diverse=diverse, margin=margin)


def test_diversity_prefers_another_domain_only_among_relevant_experts_and_says_so():
    three_of_a_kind = [candidate("reg-1", relevance=1.0), candidate("reg-2", relevance=0.98),
                       candidate("reg-3", relevance=0.97)]
    close = candidate("safety-1", "pharmacovigilance", relevance=0.92)
    far = candidate("safety-2", "pharmacovigilance", relevance=0.5)  # below the floor of 0.6

    chosen = pick(three_of_a_kind + [close, candidate("legal-1", "legal_compliance", relevance=0.7)], k=3)
    assert [c.slug for c in chosen] == ["reg-1", "reg-2", "safety-1"]
    assert "Chosen over reg-3 for variety: Regulatory Affairs already has 2 seats; adds Pharmacovigilance" \
        in " ".join(chosen[2].reasons)

    for c in three_of_a_kind:
        c.reasons.clear()
    chosen = pick(three_of_a_kind + [far], k=3)
    assert [c.slug for c in chosen] == ["reg-1", "reg-2", "reg-3"]  # no less relevant seat for the sake of variety
    assert not any("variety" in reason for c in chosen for reason in c.reasons)

    chosen = pick(three_of_a_kind + [close], k=3, margin=0.95)  # 0.92 < 0.95 x 0.97: not close enough
    assert [c.slug for c in chosen] == ["reg-1", "reg-2", "reg-3"]
    assert [c.slug for c in pick(three_of_a_kind + [close], k=3, diverse=False)] == ["reg-1", "reg-2", "reg-3"]


def test_no_filler_past_the_minimum_and_the_minimum_met_by_the_next_most_relevant():
    ranked = [candidate("a", relevance=1.0), candidate("b", "biostatistics", relevance=0.8),
              candidate("c", "commercial", relevance=0.4), candidate("d", "data_privacy", relevance=0.3)]
    assert [c.slug for c in pick(ranked, k=4, minimum=2)] == ["a", "b"]
    chosen = pick(ranked, k=4, minimum=3)
    assert [c.slug for c in chosen] == ["a", "b", "c"]
    assert "Below the relevance floor; seated to reach the panel's minimum of 3" in chosen[2].reasons


def test_incompatible_and_role_rules_hold_with_the_preference():
    from agents.ranking import _pick, _role_seats

    ranked = [candidate("mod", relevance=1.0), candidate("pro-1", "commercial", 0.9, "advocate"),
              candidate("con-1", "biostatistics", 0.85, "skeptic", incompatible=["pro-1"]),
              candidate("con-2", "pharmacovigilance", 0.8, "skeptic")]
    chosen = _pick(ranked, seats=_role_seats(ADVERSARIAL.role_plan, 3), minimum=3, floor=0.6, diverse=True,
                   margin=0.9)
    assert [(c.slug, c.role) for c in chosen] == [("mod", "moderator"), ("pro-1", "pro"), ("con-2", "con")]


def test_heavy_usage_never_seats_an_expert_outside_its_field(catalog, alpha, beta):
    favourite = Agent.objects.get(slug="digital-therapeutics-specialist")
    outside = ["We see three cases of liver injury with jaundice in our phase 2; is this a hepatotoxicity signal?",
               "A generic company filed a Paragraph IV certification against our compound patent. What now?",
               "We are moving our tablet manufacturing to a CDMO in Ireland: how do we run the GMP tech transfer?",
               "Should we accept a single-arm trial for the German AMNOG benefit assessment?"]
    with schema_context("alpha"):
        AgentUsage.objects.update_or_create(agent=favourite, defaults={"use_count": 50, "rating_count": 50,
                                                                       "avg_rating": 5.0})
    for question in outside:
        assert favourite.slug not in ranked_slugs(question=question), question
    inside = "Should our prescription app for insomnia (CBT-I) go for a DiGA listing in Germany or FDA clearance first?"
    boosted = next(r for r in ranked(question=inside) if r.agent.slug == favourite.slug)
    assert boosted.score == pytest.approx(boosted.relevance * 1.2, abs=1e-3)
    assert "Used 50 times here, rated 5.0/5 (x1.20)" in boosted.reasons
    assert all(r.score == pytest.approx(r.relevance, abs=1e-3) for r in ranked("beta", question=inside))


def test_a_preferred_expert_below_the_floor_gets_no_boost(catalog, alpha):
    question = "How do we respond to an FDA 483 observation on our aseptic filling line?"
    below = ranked(question=question, k=12, minimum=12, diverse=False)[-1]
    assert below.relevance < 0.8 * ranked(question=question)[0].relevance
    with schema_context("alpha"):
        preferences_set(preferred={below.agent.domain: [below.agent.slug]}, disabled=[])
    again = next(r for r in ranked(question=question, k=12, minimum=12, diverse=False)
                 if r.agent.slug == below.agent.slug)
    assert again.score == pytest.approx(again.relevance, abs=1e-3)
    assert "Preferred by your organisation, but not among the most relevant for this question (no boost)" \
        in again.reasons


def test_adversarial_panels_get_a_moderator_and_both_sides(catalog, alpha):
    result = ranked(question="Should we launch our biosimilar at risk before the patent case is decided?",
                    role_plan=ADVERSARIAL.role_plan)
    roles = [r.role for r in result]
    assert roles[0] == "moderator" and roles.count("pro") == 2 and roles.count("con") == 2
    for r in result:
        allowed = {"moderator": {"balanced"}, "pro": {"advocate", "balanced"}, "con": {"skeptic", "balanced"}}[r.role]
        assert r.agent.disposition in allowed
    assert sum(r.agent.disposition == "advocate" for r in result if r.role == "pro") >= 1
    assert sum(r.agent.disposition == "skeptic" for r in result if r.role == "con") >= 1


def test_an_admin_edit_is_in_the_next_ranking(catalog, alpha):
    top = Agent.objects.get(pk=ranked()[0].agent.pk)
    top.title = "Renamed once"
    top.save()  # as the admin saves it
    assert ranked()[0].agent.title == "Renamed once"
    Agent.objects.filter(pk=top.pk).update(name="Dr. Bulk", capabilities=["Edited in bulk"])
    again = ranked()[0].agent
    assert (again.pk, again.name, again.capabilities) == (top.pk, "Dr. Bulk", ["Edited in bulk"])


def test_a_retired_agent_leaves_the_next_ranking(catalog, alpha):
    top = ranked()[0].agent
    agent_set_active(agent=Agent.objects.get(pk=top.pk), active=False)
    assert top.slug not in ranked_slugs(k=12, diverse=False)


def test_a_new_embedding_is_in_the_next_ranking(catalog, alpha):
    shown = set(ranked_slugs(k=12, diverse=False))
    far = Agent.objects.filter(is_active=True).exclude(slug__in=shown).order_by("slug").first()
    vector = get_embedder().embed([DEVICE_QUESTION])[0]
    Agent.objects.filter(pk=far.pk).update(embedding=vector)
    AgentExample.objects.filter(agent=far).update(embedding=vector)  # its own statement: a version of its own
    now = {r.agent.slug: r for r in ranked()}
    assert far.slug in now
    assert "similarity 1.00" in now[far.slug].reasons[0]


def test_a_caller_that_changes_a_returned_agent_does_not_change_the_next_callers(catalog, alpha, beta):
    first = ranked()[0].agent
    capabilities = list(first.capabilities)
    first.title = "changed by a caller"
    first.capabilities.append("appended in place by a caller")
    for schema in ("alpha", "beta"):
        other = ranked(schema)[0].agent
        assert other.pk == first.pk
        assert other.title != "changed by a caller" and other.capabilities == capabilities


def test_incompatible_agents_are_matched_by_whole_slug(catalog, alpha):
    from agents.ranking import Candidate, _compatible

    def candidate(slug, incompatible=()):
        return Candidate(id=0, slug=slug, domain="regulatory_affairs", disposition="balanced",
                         incompatible_agents=list(incompatible), similarity=0.0, example_similarity=0.0,
                         word_match=0.0)

    specialist = Agent.objects.get(slug="fda-510k-specialist")
    assert specialist.incompatible_agents == ["fda-pma-specialist"]
    seated = [candidate(specialist.slug, specialist.incompatible_agents)]
    assert not _compatible(candidate("fda-pma-specialist"), seated)
    assert _compatible(candidate("fda-pma"), seated)  # not a substring test
    seated_slugs = set(ranked_slugs(question="510(k) or PMA for our class II/III cardiac device?", k=12, diverse=False))
    assert not {"fda-510k-specialist", "fda-pma-specialist"} <= seated_slugs


def test_a_catalog_larger_than_the_pool_keeps_the_most_relevant(catalog, alpha):
    from agents.ranking import candidates, question_lexemes

    vector = get_embedder().embed([DEVICE_QUESTION])[0]
    lexemes = question_lexemes(DEVICE_QUESTION)
    assert {"510", "softwar", "ecg"} <= set(lexemes)
    everyone = candidates(vector=vector, lexemes=lexemes)
    assert len(everyone) == Agent.objects.filter(is_active=True, embedding__isnull=False).count()
    assert [c.relevance for c in everyone] == sorted((c.relevance for c in everyone), reverse=True)
    assert [c.id for c in candidates(vector=vector, lexemes=lexemes, pool=20)] == [c.id for c in everyone[:20]]


def test_every_agent_has_example_questions_and_the_closest_is_a_reason(catalog, alpha):
    counts = Agent.objects.filter(is_active=True).annotate(n=Count("examples")).values_list("slug", "n")
    assert all(n >= 3 for _, n in counts), [slug for slug, n in counts if n < 3]
    reasons = " ".join(ranked()[0].reasons)
    assert "Close to a question it answers: “" in reasons
