"""Ranking experts for a question, for the active tenant.

score = relevance x 1.2 (tenant-preferred) + min(use_count / 100 x avg_rating, 0.5)

- relevance in [0, 1]: 0.75 x profile-embedding similarity + 0.25 x full-text rank
  (ts_rank), each min-max scaled over the candidates: the whole catalog while it fits
  in the pool of 200 (it does today), else the 200 agents nearest by embedding (HNSW
  index) plus any the tenant's usage may lift. Measured on
  agents/evaluation/ranking_questions.yaml (83 questions, precision@5): full-text alone
  0.31, embeddings alone 0.38, fused 0.41. ts_rank_cd (cover density) fused at 0.7/0.3
  scored 0.407 but costs ~4.5 ms more per call over the catalog's long profiles; ts_rank
  at 0.7/0.3 scored 0.398, at 0.75/0.25 0.410 (weights chosen on this same set).
  bench/agents.py prints the current figure.
- The usage boost is capped at 0.5 so a much-used agent cannot outrank relevance itself.
- Disabled agents are never returned; retired agents neither.
- Picking a panel keeps domain diversity (at most 2 of one domain for up to 5 seats,
  3 beyond, unless one domain was asked for) and skips incompatible pairs.
- A panel type with roles (its `role_plan`, e.g. adversarial) fills them from
  dispositions: a balanced moderator, advocates for, skeptics against.
Every result carries its score and the reasons for it.

One call makes one round trip before the question's embedding is ready (the tenant's
steering and, for a catalog within the pool, who is eligible with each one's full-text
rank and row version), and none after it: similarities are computed from the process's
copies of the agents (agents.copies), which are also the winners returned. A larger
catalog takes one HNSW query after the embedding, and reads its winners' copies.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field

import numpy as np
from django.db import connection

from agents.copies import VERSION, AgentCopy, agent_copies
from agents.domains import DOMAINS
from agents.models import Agent
from llm.embeddings import DIMENSIONS, embed_soon, vector_literal
from agents.tenant.selectors import STEERING_SQL, Steering, Usage, steering_from_rows

EMBEDDING_WEIGHT = 0.75
TEXT_WEIGHT = 0.25
PREFERRED_BOOST = 1.2
USAGE_BOOST_CAP = 0.5
DEFAULT_K = 5
MAX_K = 12

ROLE_REASONS = {
    "moderator": "Moderates the debate (balanced disposition)",
    "pro": "Argues for the proposal (advocate disposition)",
    "con": "Argues against the proposal (skeptic disposition)",
}

QUESTION_TSQUERY_CTE = """question AS (
    SELECT to_tsquery('english', coalesce(string_agg(quote_literal(lexeme) || ':*', ' | '), '')) AS query
    FROM unnest(tsvector_to_array(to_tsvector('english', %(question)s))) AS lexeme
)"""
# The question's words as full-text search stems them: the winners' "Matches" reason.
QUESTION_LEXEMES_SQL = "SELECT tsvector_to_array(to_tsvector('english', %(question)s));"

# A catalog that fits in the candidate pool is scored whole. Who is eligible, each one's
# row version (agents.copies) and full-text rank are read while the question is being
# embedded; the similarities are then computed here from the copies' vectors.
CATALOG_SQL = QUESTION_LEXEMES_SQL + """
WITH """ + QUESTION_TSQUERY_CTE + """
SELECT a.id, """ + VERSION + """, ts_rank(a.search_vector, question.query, 32)
FROM agents_agent a CROSS JOIN question
WHERE a.is_active AND a.embedding IS NOT NULL {filters}
LIMIT %(limit)s
"""

# A larger catalog: the pool nearest the question (HNSW), plus the agents the tenant's
# usage may lift. One round trip: the SET LOCALs and the queries travel as one
# simple-query message, which PostgreSQL runs as one implicit transaction, so the
# settings hold for this message only. (Needs client-side binding, Django's default.)
NEAREST_SQL = """
SET LOCAL hnsw.ef_search = {ef_search};
SET LOCAL hnsw.iterative_scan = relaxed_order;
""" + QUESTION_LEXEMES_SQL + """
WITH nearest AS MATERIALIZED (
    SELECT a.id, a.embedding <=> %(vector)s::vector AS distance
    FROM agents_agent a
    WHERE a.is_active AND a.embedding IS NOT NULL {filters}
    ORDER BY distance
    LIMIT %(pool)s
), steered AS (
    SELECT a.id, a.embedding <=> %(vector)s::vector AS distance
    FROM agents_agent a
    WHERE a.id = ANY(%(steered)s) AND a.id NOT IN (SELECT id FROM nearest)
      AND a.is_active AND a.embedding IS NOT NULL {filters}
), """ + QUESTION_TSQUERY_CTE + """
SELECT a.id, """ + VERSION + """, a.slug, a.domain, a.disposition, a.incompatible_agents,
       ts_rank(a.search_vector, question.query, 32), 1 - pool.distance
FROM (SELECT * FROM nearest UNION ALL SELECT * FROM steered) AS pool
JOIN agents_agent a ON a.id = pool.id
CROSS JOIN question
"""


@dataclass
class Candidate:
    """An agent as ranking sees it before the winners are loaded in full."""

    id: int
    version: str  # the row's version (agents.copies)
    slug: str
    domain: str
    disposition: str
    incompatible_agents: list
    similarity: float
    relevance: float
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


@dataclass
class Catalog:
    """Every eligible agent (its copy) with its full-text rank, and the question's lexemes."""

    copies: list[AgentCopy]
    text_rank: list[float]
    question_lexemes: frozenset
    vectors: np.ndarray = field(init=False)  # the copies' vectors, stacked while the question embeds

    def __post_init__(self):
        self.vectors = (np.stack([copy.vector for copy in self.copies]) if self.copies
                        else np.zeros((0, DIMENSIONS)))


@dataclass
class Scored:
    """The candidates with their relevance, and the question's lexemes."""

    candidates: list[Candidate]
    question_lexemes: frozenset


def ranking_reads(*, question: str, domains: list[str] | None = None,
                  pool: int = 200) -> tuple[Steering, Catalog | None]:
    """What ranking reads before the question's embedding is known, in one round trip:
    the tenant's steering, and every eligible agent with its full-text rank when there
    are at most `pool` of them (then all are candidates, whatever the embedding says;
    None for a larger catalog). The tenant's disabled agents are left out here."""
    params = {"question": question, "limit": pool + 1}
    with connection.cursor() as cursor:
        cursor.execute(STEERING_SQL + CATALOG_SQL.format(filters=_filters(domains, (), params)), params)
        preferences, usage, [(lexemes,)], rows = _result_sets(cursor)
    steering = steering_from_rows(preferences, usage)
    if len(rows) > pool:
        return steering, None
    copies = agent_copies({agent_id: version for agent_id, version, _ in rows})
    # (an agent deleted since its version was read simply drops out)
    eligible = [(copies[agent_id], rank) for agent_id, _, rank in rows
                if agent_id in copies and copies[agent_id].slug not in steering.disabled]
    return steering, Catalog(copies=[copy for copy, _ in eligible], text_rank=[rank for _, rank in eligible],
                             question_lexemes=frozenset(lexemes or ()))


def score_catalog(catalog: Catalog, *, vector) -> Scored:
    """Relevance of every agent of the catalog, once the question's embedding `vector`
    is known. Cosine similarity as pgvector computes it (in float64 here, so the last
    digits may differ from pgvector's float32 sums)."""
    vector = np.asarray(vector, dtype=np.float64)
    norm = np.linalg.norm(vector)
    similarity = (catalog.vectors @ (vector / norm) if norm else np.zeros(len(catalog.copies))).tolist()
    rows = [(copy.id, copy.version, copy.slug, copy.domain, copy.disposition, copy.incompatible_agents, rank, sim)
            for copy, rank, sim in zip(catalog.copies, catalog.text_rank, similarity)]
    return Scored(_fused(rows), catalog.question_lexemes)


def score_nearest(*, question: str, vector, domains: list[str] | None = None, exclude=frozenset(),
                  pool: int = 200, steered=()) -> Scored:
    """Relevance of the `pool` agents nearest the question's embedding `vector` plus the
    `steered` ids (agents the tenant's usage may lift): full-text rank can only re-rank
    what meaning already found."""
    params = {"vector": vector_literal(vector), "question": question, "pool": pool, "steered": list(steered)}
    filters = _filters(domains, exclude, params)
    with connection.cursor() as cursor:
        # HNSW returns at most ef_search rows; iterative scans keep filtered queries full.
        cursor.execute(NEAREST_SQL.format(filters=filters, ef_search=max(40, int(pool))), params)
        [(lexemes,)], rows = _result_sets(cursor)
    # A cursor returns JSON as text (the ORM would parse it).
    rows = [(*row[:5], json.loads(row[5]) if row[5] else [], *row[6:]) for row in rows]
    return Scored(_fused(rows), frozenset(lexemes or ()))


def _result_sets(cursor) -> list[list[tuple]]:
    """The rows of each statement of a multi-statement query that returns rows."""
    results = []
    while True:
        if cursor.description is not None:
            results.append(cursor.fetchall())
        if not cursor.nextset():
            return results


def _fused(rows: list[tuple]) -> list[Candidate]:
    """Rows (id, version, slug, domain, disposition, incompatible_agents, text_rank,
    similarity) -> candidates whose relevance fuses both, each min-max scaled over the rows."""
    text = _scaled([row[6] for row in rows])
    similarity = _scaled([row[7] for row in rows])
    return [Candidate(id=row[0], version=row[1], slug=row[2], domain=row[3], disposition=row[4],
                      incompatible_agents=row[5], similarity=float(row[7]),
                      relevance=EMBEDDING_WEIGHT * sim + TEXT_WEIGHT * txt)
            for row, sim, txt in zip(rows, similarity, text)]


def _filters(domains, exclude, params: dict) -> str:
    filters = ""
    if domains:
        filters += " AND a.domain = ANY(%(domains)s)"
        params["domains"] = list(domains)
    if exclude:
        filters += " AND NOT (a.slug = ANY(%(exclude)s))"
        params["exclude"] = list(exclude)
    return filters


def _scaled(values: list[float]) -> list[float]:
    """Min-max scaled to [0, 1] over the candidates (all 0 when they are all equal)."""
    if not values:
        return []
    low, high = min(values), max(values)
    return [(value - low) / (high - low) for value in values] if high > low else [0.0] * len(values)


def rank_agents(*, question: str, k: int = DEFAULT_K, role_plan: dict | None = None,
                domains: list[str] | None = None, diverse: bool = True) -> list[RankedAgent]:
    """The best k agents for the question, for the active tenant, best first."""
    k = max(1, min(int(k), MAX_K))
    embedding = embed_soon([question])  # while the database work that does not need it is done
    pool = max(200, 10 * k)
    steering, catalog = ranking_reads(question=question, domains=domains, pool=pool)
    preferred, usage = steering.preferred, steering.usage
    vector = embedding.result()[0]
    scored = (score_catalog(catalog, vector=vector) if catalog is not None else
              score_nearest(question=question, vector=vector, domains=domains, exclude=steering.disabled,
                            pool=pool, steered=list(usage)))
    candidates = scored.candidates
    for candidate in candidates:
        score = candidate.relevance
        if candidate.slug in preferred:
            score *= PREFERRED_BOOST
        candidate.score = round(score + _usage_boost(usage.get(candidate.id)), 4)
    candidates.sort(key=lambda c: (-c.score, c.slug))

    plan = role_plan  # the panel type's roles (panels/types/), when it has any
    spread = diverse and not (bool(domains) and len(domains) == 1)
    chosen = _pick_with_roles(candidates, k, plan, spread) if plan else _pick_diverse(candidates, k, spread)

    # The winners in full, from the process's copies (no query for a catalog within the
    # pool: scoring it took copies of every candidate).
    copies = agent_copies({candidate.id: candidate.version for candidate in chosen})
    results = []
    for candidate in chosen:
        copy = copies.get(candidate.id)
        if copy is None:  # deleted since it was scored
            continue
        candidate.reasons[:0] = _score_reasons(candidate, preferred, usage)  # before the picking's reasons
        matched = sorted(copy.lexemes & scored.question_lexemes)
        if matched:
            candidate.reasons.insert(1, "Matches: " + ", ".join(matched[:6]))
        results.append(RankedAgent(agent=copy.agent(), score=candidate.score,
                                   relevance=round(candidate.relevance, 4), role=candidate.role,
                                   reasons=candidate.reasons))
    return results


def _score_reasons(candidate: Candidate, preferred, usage) -> list[str]:
    """Why the candidate scored what it did (written for the winners only)."""
    reasons = [f"Profile matches the question (relevance {candidate.relevance:.2f}, "
               f"similarity {candidate.similarity:.2f})"]
    if candidate.slug in preferred:
        reasons.append(f"Preferred by your organisation for {DOMAINS[candidate.domain]} (x{PREFERRED_BOOST})")
    stats = usage.get(candidate.id)
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
            candidate.reasons.append(f"Adds {DOMAINS[candidate.domain]} to the panel")
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
