"""Ranking experts for a question, for the active tenant.

score = relevance x 1.2 (tenant-preferred) + min(use_count / 100 x avg_rating, 0.5)

- relevance in [0, 1]: 0.7 x profile-embedding similarity + 0.3 x full-text rank, each
  min-max scaled over the active catalog. Measured on agents/evaluation/ranking_questions.yaml
  (83 questions, precision@5): full-text alone 0.31, embeddings alone 0.38, fused 0.41
  (bench/agents.py prints the current figure).
- The usage boost is capped at 0.5 so a much-used agent cannot outrank relevance itself.
- Disabled agents are never returned; retired agents neither.
- Picking a panel keeps domain diversity (at most 2 of one domain for up to 5 seats,
  3 beyond, unless one domain was asked for) and skips incompatible pairs.
- Panel types with roles (adversarial) fill them from dispositions: a balanced moderator,
  advocates for, skeptics against.
Every result carries its score and the reasons for it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from django.db import connection

from agents.models import Agent
from agents.providers.embeddings import get_embedder
from agents.tenant.selectors import preferences_get, usage_by_agent_id

EMBEDDING_WEIGHT = 0.7
TEXT_WEIGHT = 0.3
PREFERRED_BOOST = 1.2
USAGE_BOOST_CAP = 0.5
DEFAULT_K = 5
MAX_K = 12

# Roles a panel type needs, in the order seats are filled; the rest alternate.
ROLE_PLANS: dict[str, dict] = {
    "adversarial": {
        "first": [("moderator", ("balanced",))],
        "cycle": [("pro", ("advocate", "balanced")), ("con", ("skeptic", "balanced"))],
    },
}
ROLE_REASONS = {
    "moderator": "Moderates the debate (balanced disposition)",
    "pro": "Argues for the proposal (advocate disposition)",
    "con": "Argues against the proposal (skeptic disposition)",
}

SCORING_SQL = """
WITH question AS (
    SELECT to_tsquery('english', coalesce(string_agg(quote_literal(lexeme) || ':*', ' | '), '')) AS query
    FROM unnest(tsvector_to_array(to_tsvector('english', %s))) AS lexeme
)
SELECT a.id, 1 - (a.embedding <=> %s::vector) AS similarity, ts_rank_cd(a.search_vector, question.query, 32) AS text_rank
FROM agents_agent a, question
WHERE a.is_active AND a.embedding IS NOT NULL {filters}
"""


@dataclass
class RankedAgent:
    agent: Agent
    score: float
    relevance: float
    role: str = "expert"
    reasons: list[str] = field(default_factory=list)


def _question_lexemes(question: str) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT unnest(tsvector_to_array(to_tsvector('english', %s)))", [question])
        return {row[0] for row in cursor.fetchall()}


def _scale(values: np.ndarray) -> np.ndarray:
    spread = values.max() - values.min() if len(values) else 0
    return (values - values.min()) / spread if spread > 0 else np.zeros_like(values)


def score_agents(*, question: str, domains: list[str] | None = None, exclude: set[str] = frozenset()):
    """(agent ids, relevance, similarity) for every eligible active agent, in SQL."""
    vector = get_embedder().embed([question])[0]
    filters, params = "", [question, "[" + ",".join(f"{x:.6f}" for x in vector) + "]"]
    if domains:
        filters += " AND a.domain = ANY(%s)"
        params.append(list(domains))
    if exclude:
        filters += " AND NOT (a.slug = ANY(%s))"
        params.append(list(exclude))
    with connection.cursor() as cursor:
        cursor.execute(SCORING_SQL.format(filters=filters), params)
        rows = cursor.fetchall()
    if not rows:
        return np.array([], dtype=int), np.array([]), np.array([])
    ids = np.array([row[0] for row in rows])
    similarity = np.array([row[1] for row in rows], dtype=np.float64)
    text_rank = np.array([row[2] for row in rows], dtype=np.float64)
    relevance = EMBEDDING_WEIGHT * _scale(similarity) + TEXT_WEIGHT * _scale(text_rank)
    return ids, relevance, similarity


def rank_agents(*, question: str, k: int = DEFAULT_K, panel_type: str | None = None,
                domains: list[str] | None = None, diverse: bool = True) -> list[RankedAgent]:
    """The best k agents for the question, for the active tenant, best first."""
    k = max(1, min(int(k), MAX_K))
    preferences = preferences_get()
    preferred = preferences.preferred_slugs
    usage = usage_by_agent_id()
    ids, relevance, similarity = score_agents(question=question, domains=domains, exclude=set(preferences.disabled))
    if not len(ids):
        return []

    # Full scores for the relevant pool plus every agent the tenant steers toward.
    pool_size = min(len(ids), max(200, 10 * k))
    pool = set(np.argsort(-relevance)[:pool_size].tolist())
    steered = {int(i) for i, agent_id in enumerate(ids) if agent_id in usage}
    candidates_index = sorted(pool | steered)
    agents = Agent.objects.defer("embedding", "search_vector").in_bulk([int(ids[i]) for i in candidates_index])
    lexemes = _question_lexemes(question)

    candidates: list[RankedAgent] = []
    for i in candidates_index:
        agent = agents[int(ids[i])]
        score = float(relevance[i])
        reasons = [f"Profile matches the question (relevance {relevance[i]:.2f}, similarity {similarity[i]:.2f})"]
        if agent.slug in preferred:
            score *= PREFERRED_BOOST
            reasons.append(f"Preferred by your organisation for {agent.domain_label} (x{PREFERRED_BOOST})")
        stats = usage.get(agent.id)
        if stats and stats.use_count and stats.avg_rating:
            boost = min(stats.use_count / 100 * stats.avg_rating, USAGE_BOOST_CAP)
            score += boost
            reasons.append(f"Used {stats.use_count} times here, rated {stats.avg_rating:.1f}/5 (+{boost:.2f})")
        candidates.append(RankedAgent(agent=agent, score=round(score, 4), relevance=round(float(relevance[i]), 4),
                                      reasons=reasons))
    candidates.sort(key=lambda c: (-c.score, c.agent.slug))

    plan = ROLE_PLANS.get(panel_type or "")
    single_domain = bool(domains) and len(domains) == 1
    chosen = _pick_with_roles(candidates, k, plan, diverse and not single_domain) if plan else \
        _pick_diverse(candidates, k, diverse and not single_domain)
    agent_lexemes = _lexemes_by_agent([ranked.agent.id for ranked in chosen])
    for ranked in chosen:
        matched = sorted(lexemes & agent_lexemes.get(ranked.agent.id, set()))
        if matched:
            ranked.reasons.insert(1, "Matches: " + ", ".join(matched[:6]))
    return chosen


def _lexemes_by_agent(agent_ids: list[int]) -> dict[int, set[str]]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, tsvector_to_array(search_vector) FROM agents_agent WHERE id = ANY(%s)", [agent_ids])
        return {agent_id: set(lexemes or []) for agent_id, lexemes in cursor.fetchall()}


def _domain_cap(k: int) -> int:
    return 2 if k <= 5 else 3 if k <= 9 else math.ceil(k / 3)


def _compatible(agent: Agent, chosen: list[RankedAgent]) -> bool:
    for other in chosen:
        if agent.slug in other.agent.incompatible_agents or other.agent.slug in agent.incompatible_agents:
            return False
    return True


def _pick_diverse(candidates: list[RankedAgent], k: int, diverse: bool) -> list[RankedAgent]:
    chosen: list[RankedAgent] = []
    per_domain: dict[str, int] = {}
    cap = _domain_cap(k)
    for candidate in candidates:
        if len(chosen) == k:
            break
        domain = candidate.agent.domain
        if diverse and per_domain.get(domain, 0) >= cap:
            continue
        if not _compatible(candidate.agent, chosen):
            continue
        if diverse and domain not in per_domain and chosen:
            candidate.reasons.append(f"Adds {candidate.agent.domain_label} to the panel")
        per_domain[domain] = per_domain.get(domain, 0) + 1
        chosen.append(candidate)
    if len(chosen) < k:  # not enough variety available: fill by score
        for candidate in candidates:
            if len(chosen) == k:
                break
            if candidate not in chosen and _compatible(candidate.agent, chosen):
                chosen.append(candidate)
    return chosen


def _pick_with_roles(candidates: list[RankedAgent], k: int, plan: dict, diverse: bool) -> list[RankedAgent]:
    seats = list(plan["first"])
    while len(seats) < k:
        seats.append(plan["cycle"][(len(seats) - len(plan["first"])) % len(plan["cycle"])])
    chosen: list[RankedAgent] = []
    per_domain: dict[str, int] = {}
    cap = _domain_cap(k)
    for role, dispositions in seats:
        for relax in (False, True):  # diversity first; if no one fits, drop it for this seat
            pick = next((c for c in candidates if c not in chosen and c.agent.disposition in dispositions
                         and _compatible(c.agent, chosen)
                         and (relax or not diverse or per_domain.get(c.agent.domain, 0) < cap)), None)
            if pick is not None:
                break
        if pick is None:
            continue
        pick.role = role
        pick.reasons.append(ROLE_REASONS[role])
        per_domain[pick.agent.domain] = per_domain.get(pick.agent.domain, 0) + 1
        chosen.append(pick)
    return chosen
