"""Ranking experts for a question, for the active tenant.

score = relevance x 1.2 (tenant-preferred) + min(use_count / 100 x avg_rating, 0.5)

- relevance in [0, 1]: 0.75 x profile-embedding similarity + 0.25 x word match, each
  min-max scaled over the candidates: the 200 agents nearest the question by embedding
  (the whole catalog today) plus any the tenant's usage may lift. Word match is the share
  of the question's words (as Postgres stems them) found in the agent's profile, each
  word weighted by its rarity in the catalog: idf = log(1 + agents / agents with it).
  Measured on agents/evaluation/ranking_questions.yaml (83 questions, precision@5):
  embeddings alone 0.381, word match alone 0.373, fused 0.434. Postgres ts_rank in its
  place scored 0.313 alone and 0.410 fused (0.75/0.25, the weights chosen for ts_rank on
  this same set and kept) and cost a query of ~6 ms per call over the long profiles.
  bench/agents.py prints the current figure.
- The usage boost is capped at 0.5 so a much-used agent cannot outrank relevance itself.
- Disabled agents are never returned; retired agents neither.
- Picking a panel keeps domain diversity (at most 2 of one domain for up to 5 seats,
  3 beyond, unless one domain was asked for) and skips incompatible pairs.
- A panel type with roles (its `role_plan`, e.g. adversarial) fills them from
  dispositions: a balanced moderator, advocates for, skeptics against.
Every result carries its score and the reasons for it.

One call: while the question is embedded, the tenant's steering, the question's words and
the catalog's version are read. Similarities come from the catalog's embedding matrix, kept
per process under that version (`catalog_matrix`): the version changes with every change
to the agents table (agents.models.CatalogVersion), so an edit, a retirement or a new
embedding is in the very next ranking. It holds no tenant data. After the embedding one
query reads the winners in full, so every caller gets Agent instances of its own.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field

import numpy as np
from django.contrib.postgres.fields import ArrayField
from django.db import connection
from django.db.models import F, Func, TextField

from agents.domains import DOMAINS
from agents.models import Agent, CatalogVersion
from agents.tenant.selectors import Steering, Usage, steering_get
from llm.embeddings import embed_soon

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
    word_match: float  # the question's words found in the profile, weighted by rarity
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
    embedding = embed_soon([question])  # on a helper thread while the reads below are made
    steering = steering_get()
    lexemes = question_lexemes(question)
    catalog = catalog_matrix()
    scored = candidates(vector=embedding.result()[0], lexemes=lexemes, domains=domains, catalog=catalog,
                        disabled=steering.disabled, steered=steering.usage.keys(), pool=max(POOL, 10 * k))

    text = _scaled([candidate.word_match for candidate in scored])
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
              .annotate(profile_lexemes=_profile_words())
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


@dataclass(frozen=True)
class CatalogMatrix:
    """The eligible agents (active, with an embedding) as ranking scores them, row by row."""

    version: int
    ids: list[int]
    slugs: np.ndarray
    domains: np.ndarray
    dispositions: list[str]
    incompatible: list[list[str]]
    vectors: np.ndarray  # float32, one unit-length row per agent
    postings: dict[str, np.ndarray]  # a profile word -> the rows whose profile has it


_catalog: CatalogMatrix | None = None
_catalog_lock = threading.Lock()


def catalog_matrix() -> CatalogMatrix:
    """The catalog as of its current version: read again only when the version changed."""
    global _catalog
    version = CatalogVersion.objects.values_list("number", flat=True).get(pk=1)
    with _catalog_lock:
        if _catalog is None or _catalog.version != version:
            _catalog = _catalog_read(version)
        return _catalog


def _catalog_read(version: int) -> CatalogMatrix:
    rows = list(Agent.objects.filter(is_active=True, embedding__isnull=False).order_by("id")
                .annotate(profile_words=_profile_words())
                .values_list("id", "slug", "domain", "disposition", "incompatible_agents", "embedding",
                             "profile_words"))
    vectors = np.array([row[5] for row in rows], dtype=np.float32).reshape(len(rows), -1)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    postings: dict[str, list[int]] = {}
    for index, row in enumerate(rows):
        for word in set(row[6] or ()):
            postings.setdefault(word, []).append(index)
    return CatalogMatrix(
        version=version, ids=[row[0] for row in rows], slugs=np.array([row[1] for row in rows], dtype=object),
        domains=np.array([row[2] for row in rows], dtype=object), dispositions=[row[3] for row in rows],
        incompatible=[list(row[4] or []) for row in rows], vectors=vectors / np.where(norms > 0, norms, 1),
        postings={word: np.array(indexes) for word, indexes in postings.items()},
    )


def _profile_words():
    """The words of an agent's profile as its search vector holds them (stemmed)."""
    return Func(F("search_vector"), function="tsvector_to_array", output_field=ArrayField(TextField()))


def word_match(catalog: CatalogMatrix, lexemes: list[str]) -> np.ndarray:
    """For each agent, the share of the question's words found in its profile, each word
    weighted by its rarity in the catalog (a word no agent has still counts in the whole)."""
    scores = np.zeros(len(catalog.ids))
    whole = 0.0
    for word in set(lexemes):
        rows = catalog.postings.get(word)
        weight = math.log(1 + len(catalog.ids) / (len(rows) if rows is not None else 1))
        whole += weight
        if rows is not None:
            scores[rows] += weight
    return scores / whole if whole else scores


def candidates(*, vector, lexemes: list[str], domains: list[str] | None = None, disabled=frozenset(),
               steered=(), pool: int = POOL, catalog: CatalogMatrix | None = None) -> list[Candidate]:
    """The `pool` eligible agents nearest the question's embedding `vector`, plus the
    `steered` ids (agents the tenant's usage may lift), each with its cosine similarity and
    its word match for the question's `lexemes`: words only re-rank what meaning found."""
    catalog = catalog or catalog_matrix()
    eligible = np.ones(len(catalog.ids), dtype=bool)
    if disabled:
        eligible &= ~np.isin(catalog.slugs, list(disabled))
    if domains:
        eligible &= np.isin(catalog.domains, list(domains))
    query = np.asarray(vector, dtype=np.float32)
    similarity = catalog.vectors @ (query / (np.linalg.norm(query) or 1))
    rows = np.flatnonzero(eligible)
    nearest = rows[np.argsort(-similarity[rows], kind="stable")[:pool]]
    wanted = set(steered)
    lifted = [row for row in rows if catalog.ids[row] in wanted] if wanted else []
    chosen = sorted(set(nearest.tolist()) | set(lifted))
    words = word_match(catalog, lexemes)
    return [Candidate(id=catalog.ids[row], slug=catalog.slugs[row], domain=catalog.domains[row],
                      disposition=catalog.dispositions[row], incompatible_agents=catalog.incompatible[row],
                      similarity=float(similarity[row]), word_match=float(words[row]))
            for row in chosen]


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
