"""Ranking experts for a question, for the active tenant.

score = relevance x 1.2 (tenant-preferred) + min(use_count / 100 x avg_rating, 0.5)

- relevance in [0, 1]: 0.75 x profile-embedding similarity + 0.25 x full-text rank
  (ts_rank), each min-max scaled over the candidates: the 200 agents nearest the
  question by embedding (the whole catalog today) plus any the tenant's usage may lift.
  Measured on agents/evaluation/ranking_questions.yaml (83 questions, precision@5):
  full-text alone 0.31, embeddings alone 0.38, fused 0.41. ts_rank_cd (cover density)
  fused at 0.7/0.3 scored 0.407 but costs ~4.5 ms more per call over the catalog's long
  profiles; ts_rank at 0.7/0.3 scored 0.398, at 0.75/0.25 0.410 (weights chosen on this
  same set). bench/agents.py prints the current figure.
- The usage boost is capped at 0.5 so a much-used agent cannot outrank relevance itself.
- Disabled agents are never returned; retired agents neither.
- Picking a panel keeps domain diversity (at most 2 of one domain for up to 5 seats,
  3 beyond, unless one domain was asked for) and skips incompatible pairs.
- A panel type with roles (its `role_plan`, e.g. adversarial) fills them from
  dispositions: a balanced moderator, advocates for, skeptics against.
Every result carries its score and the reasons for it.

One call: while the question is embedded, the tenant's steering and the question's words
are read; then one query scores the candidates, and one reads the winners in full.
Nothing is cached, so an edit, a retirement or a new embedding is in the very next
ranking, and every caller gets Agent instances of its own.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db import connection, transaction
from django.db.models import F, Func, Q, TextField, Value
from pgvector.django import CosineDistance

from agents.domains import DOMAINS
from agents.models import Agent
from agents.tenant.selectors import Steering, Usage, steering_get
from llm.embeddings import embed_soon, vector_literal

EMBEDDING_WEIGHT = 0.75
TEXT_WEIGHT = 0.25
PREFERRED_BOOST = 1.2
USAGE_BOOST_CAP = 0.5
DEFAULT_K = 5
MAX_K = 12
POOL = 200

ROLE_REASONS = {
    "moderator": "Moderates the debate (balanced disposition)",
    "pro": "Argues for the proposal (advocate disposition)",
    "con": "Argues against the proposal (skeptic disposition)",
}


@dataclass
class Candidate:
    """An agent as scoring sees it (the winners are then read in full)."""

    id: int
    slug: str
    domain: str
    disposition: str
    incompatible_agents: list
    similarity: float  # cosine, to the question's embedding
    text_rank: float  # ts_rank, for any of the question's words
    relevance: float = 0.0
    score: float = 0.0
    role: str = "expert"
    reasons: list[str] = field(default_factory=list)


@dataclass
class RankedAgent:
    agent: Agent
    score: float
    relevance: float
    role: str = "expert"
    reasons: list[str] = field(default_factory=list)


def rank_agents(*, question: str, k: int = DEFAULT_K, role_plan: dict | None = None,
                domains: list[str] | None = None, diverse: bool = True) -> list[RankedAgent]:
    """The best k agents for the question, for the active tenant, best first."""
    k = max(1, min(int(k), MAX_K))
    embedding = embed_soon([question])  # on a helper thread while the tenant's steering is read
    steering = steering_get()
    lexemes = question_lexemes(question)
    scored = candidates(vector=embedding.result()[0], lexemes=lexemes, domains=domains,
                        disabled=steering.disabled, steered=steering.usage.keys(), pool=max(POOL, 10 * k))

    text = _scaled([candidate.text_rank for candidate in scored])
    similarity = _scaled([candidate.similarity for candidate in scored])
    for candidate, sim, txt in zip(scored, similarity, text):
        candidate.relevance = EMBEDDING_WEIGHT * sim + TEXT_WEIGHT * txt
        score = candidate.relevance * (PREFERRED_BOOST if candidate.slug in steering.preferred else 1)
        candidate.score = round(score + _usage_boost(steering.usage.get(candidate.id)), 4)
    scored.sort(key=lambda c: (-c.score, c.slug))

    spread = diverse and not (bool(domains) and len(domains) == 1)
    chosen = _pick_with_roles(scored, k, role_plan, spread) if role_plan else _pick_diverse(scored, k, spread)

    # The winners in full, with the words of their profiles.
    agents = (Agent.objects.defer("embedding", "search_vector")
              .annotate(profile_lexemes=Func(F("search_vector"), function="tsvector_to_array",
                                             output_field=ArrayField(TextField())))
              .in_bulk([candidate.id for candidate in chosen]))
    return [RankedAgent(agent=agents[candidate.id], score=candidate.score, relevance=round(candidate.relevance, 4),
                        role=candidate.role,
                        reasons=_score_reasons(candidate, steering, agents[candidate.id], lexemes) + candidate.reasons)
            for candidate in chosen]


def question_lexemes(question: str) -> list[str]:
    """The question's words as Postgres full-text search stems them (english)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT tsvector_to_array(to_tsvector('english', %s))", [question])
        return cursor.fetchone()[0] or []


def candidates(*, vector, lexemes: list[str], domains: list[str] | None = None, disabled=frozenset(),
               steered=(), pool: int = POOL) -> list[Candidate]:
    """The `pool` eligible agents nearest the question's embedding `vector` (the HNSW
    index finds them), plus the `steered` ids (agents the tenant's usage may lift), each
    with its similarity and its full-text rank for any of the question's `lexemes`
    (prefix match): full-text rank only re-ranks what meaning found. One query."""
    eligible = Agent.objects.filter(is_active=True, embedding__isnull=False)
    if disabled:
        eligible = eligible.exclude(slug__in=disabled)
    if domains:
        eligible = eligible.filter(domain__in=domains)
    distance = CosineDistance("embedding", Value(vector_literal(vector)))
    nearest = Q(pk__in=eligible.order_by(distance).values("pk")[:pool])
    any_word = SearchQuery(" | ".join(_quoted(lexeme) + ":*" for lexeme in lexemes), search_type="raw",
                           config="english")
    rows = (eligible.filter(nearest | Q(pk__in=list(steered)) if steered else nearest)
            .annotate(similarity=Value(1.0) - distance,
                      text_rank=SearchRank(F("search_vector"), any_word, normalization=32))
            .order_by()
            .values_list("id", "slug", "domain", "disposition", "incompatible_agents", "similarity", "text_rank"))
    with transaction.atomic(), connection.cursor() as cursor:
        # An HNSW search returns at most hnsw.ef_search agents (40 by default), and fewer
        # after the filters unless it may scan on; both settings last for this transaction,
        # in which the query runs.
        cursor.execute(f"SET LOCAL hnsw.ef_search = {int(pool)}; SET LOCAL hnsw.iterative_scan = relaxed_order")
        return [Candidate(*row) for row in rows]


def _quoted(lexeme: str) -> str:
    """A lexeme as one quoted term of a tsquery."""
    return "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'"


def _scaled(values: list[float]) -> list[float]:
    """Min-max scaled to [0, 1] over the candidates (all 0 when they are all equal)."""
    if not values:
        return []
    low, high = min(values), max(values)
    return [(value - low) / (high - low) for value in values] if high > low else [0.0] * len(values)


def _score_reasons(candidate: Candidate, steering: Steering, agent: Agent, lexemes: list[str]) -> list[str]:
    """Why the candidate scored what it did (written for the winners only)."""
    reasons = [f"Profile matches the question (relevance {candidate.relevance:.2f}, "
               f"similarity {candidate.similarity:.2f})"]
    matched = sorted(set(agent.profile_lexemes or ()) & set(lexemes))
    if matched:
        reasons.append("Matches: " + ", ".join(matched[:6]))
    if candidate.slug in steering.preferred:
        reasons.append(f"Preferred by your organisation for {DOMAINS[candidate.domain]} (x{PREFERRED_BOOST})")
    stats = steering.usage.get(candidate.id)
    if _usage_boost(stats):
        reasons.append(f"Used {stats.use_count} times here, rated {stats.avg_rating:.1f}/5 "
                       f"(+{_usage_boost(stats):.2f})")
    return reasons


def _usage_boost(stats: Usage | None) -> float:
    """use_count / 100 x avg_rating, capped; 0 for an agent never used or never rated here."""
    if not stats or not stats.use_count or not stats.avg_rating:
        return 0.0
    return min(stats.use_count / 100 * stats.avg_rating, USAGE_BOOST_CAP)


def _domain_cap(k: int) -> int:
    return 2 if k <= 5 else 3 if k <= 9 else math.ceil(k / 3)


def _compatible(candidate: Candidate, chosen: list[Candidate]) -> bool:
    """Neither lists the other as incompatible (whole slugs)."""
    return not any(candidate.slug in other.incompatible_agents or other.slug in candidate.incompatible_agents
                   for other in chosen)


def _pick_diverse(candidates: list[Candidate], k: int, diverse: bool) -> list[Candidate]:
    chosen: list[Candidate] = []
    per_domain: dict[str, int] = {}
    cap = _domain_cap(k)
    for candidate in candidates:
        if len(chosen) == k:
            break
        domain = candidate.domain
        if diverse and per_domain.get(domain, 0) >= cap:
            continue
        if not _compatible(candidate, chosen):
            continue
        if diverse and domain not in per_domain and chosen:
            candidate.reasons.append(f"Adds {DOMAINS[domain]} to the panel")
        per_domain[domain] = per_domain.get(domain, 0) + 1
        chosen.append(candidate)
    if len(chosen) < k:  # not enough variety available: fill by score
        for candidate in candidates:
            if len(chosen) == k:
                break
            if candidate not in chosen and _compatible(candidate, chosen):
                chosen.append(candidate)
    return chosen


def _pick_with_roles(candidates: list[Candidate], k: int, plan: dict, diverse: bool) -> list[Candidate]:
    seats = list(plan["first"])
    while len(seats) < k:
        seats.append(plan["cycle"][(len(seats) - len(plan["first"])) % len(plan["cycle"])])
    chosen: list[Candidate] = []
    per_domain: dict[str, int] = {}
    cap = _domain_cap(k)
    for role, dispositions in seats:
        for relax in (False, True):  # diversity first; if no one fits, drop it for this seat
            pick = next((c for c in candidates if c not in chosen and c.disposition in dispositions
                         and _compatible(c, chosen)
                         and (relax or not diverse or per_domain.get(c.domain, 0) < cap)), None)
            if pick is not None:
                break
        if pick is None:
            continue
        pick.role = role
        pick.reasons.append(ROLE_REASONS[role])
        per_domain[pick.domain] = per_domain.get(pick.domain, 0) + 1
        chosen.append(pick)
    return chosen
