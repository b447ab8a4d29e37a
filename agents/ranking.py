"""Ranking experts for a question, for the active tenant.

Relevance, in [0, 1], is what the agent's profile says about the question:

    relevance = 0.40 x profile similarity + 0.20 x example similarity + 0.40 x word match

each signal min-max scaled over the eligible agents. Profile similarity is the cosine of the
question's embedding to the agent's profile (title, capabilities, knowledge); example
similarity is the mean cosine to the two closest of the questions written for the agent in
the catalog (`example_questions`); word match is the share of the question's words (stemmed
by Postgres) found in the profile and those example questions, each word weighted by its
rarity (idf). Both similarities are first corrected for hubness: an agent whose profile or
examples sit near everyone's questions (`hub`: the mean cosine to the other agents' example
questions) has 0.75 x that mean taken off, so a generic profile does not come up for every
question (at 1.0 and above the most specific agents came up everywhere instead).

The score orders the relevant experts; usage and preferences never make an irrelevant
one relevant:

    score = relevance x (1.2 if preferred) x (1 + 0.4 x min(use_count / 100 x avg_rating, 0.5))

and both boosts apply only at or above the boost floor (0.8 x the best candidate's
relevance); below it the score is the relevance. A preferred, much-used expert gains at
most x1.2 x x1.2, and only among experts nearly as relevant as the best. (At 0.6, five
experts used and rated 50 times each took a top-5 seat in 11% of unrelated questions.)

Picking seats, best score first:
- No filler: past the panel type's `minimum`, no seat goes to an expert below the relevance
  floor (0.6 x the best candidate's relevance).
- Diversity is a preference, not a quota: when the best remaining expert's domain already
  has its share of seats (2 of up to 5, 3 of up to 9), the best expert of another domain
  takes the seat if it is at or above the floor and scores at least 0.9 x the best; its
  reasons say whom it was chosen over. Asking for one domain turns it off.
- Incompatible pairs are never seated together; disabled and retired agents never appear.
- A panel type with roles (its `role_plan`, e.g. adversarial) fills each seat from the
  dispositions the role allows: a balanced moderator, advocates for, skeptics against.
Every result carries its score, its relevance and the reasons for both. With a real LLM
and `llm.rerank_experts` on, the model re-ranks the 20 best first (agents/rerank.py).

The weights (`Weights`) were fitted on the train split of agents/evaluation/questions.yaml
(bench/agents.py --fit); bench/agents.py reports precision@5, nDCG@5 and hubness on the
test split. Test split figures: README, "Expert ranking".

One call: while the question is embedded, the tenant's steering, the question's words and
the catalog's version are read. Similarities come from the catalog's matrices, kept per
process under that version (`catalog_matrix`): the version changes with every change to the
agents and their examples (agents.models.CatalogVersion), so an edit, a retirement or a new
embedding is in the very next ranking. They hold no tenant data. After the embedding one
query reads the winners in full, so every caller gets Agent instances of its own.
"""

from __future__ import annotations

import math
import threading
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
from django.contrib.postgres.fields import ArrayField
from django.db import connection
from django.db.models import F, Func, TextField

from agents.domains import DOMAINS
from agents.models import Agent, AgentExample, CatalogVersion
from agents.rerank import llm_order, rerank_enabled
from agents.tenant.models import CustomAgent
from agents.tenant.selectors import (
    Steering,
    Usage,
    private_experts_for_ranking,
    steering_get,
)
from llm.embeddings import embed_soon
from tenants.context import current_tenant


@dataclass(frozen=True)
class Weights:
    """How relevance is fused and how seats are picked (fitted on the train split)."""

    profile: float = 0.40
    example: float = 0.20
    words: float = 0.40
    hub: float = 0.75  # share of an agent's hubness taken off its similarities
    floor: float = 0.60  # the relevance floor for a seat, as a share of the best candidate's relevance
    boost_floor: float = 0.80  # boosts apply at or above this share of the best candidate's relevance
    diversity_margin: float = 0.90  # a seat goes to another domain if it scores at least this share of the best


WEIGHTS = Weights()
PREFERRED_BOOST = 1.2
USAGE_WEIGHT = 0.4
USAGE_CAP = 0.5
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
    similarity: float  # cosine of the question to the profile
    example_similarity: float  # mean cosine of the question to the agent's two closest example questions
    word_match: float  # the question's words found in the profile, weighted by rarity
    example: str | None = None  # the closest example question (None: the agent has none)
    private: bool = False  # the tenant's own expert (agents.tenant.models.CustomAgent): `id` is its id
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


def rank_agents(*, question: str, k: int = DEFAULT_K, minimum: int | None = None, role_plan: dict | None = None,
                domains: list[str] | None = None, diverse: bool = True) -> list[RankedAgent]:
    """Up to k agents for the question, for the active tenant, best first: at least
    `minimum` (default k) when that many are eligible, and past it only relevant ones."""
    k = max(1, min(int(k), MAX_K))
    minimum = k if minimum is None else max(1, min(int(minimum), k))
    embedding = embed_soon([question])  # on a helper thread while the reads below are made
    steering = steering_get()
    lexemes = question_lexemes(question)
    catalog = catalog_matrix()
    tenant = current_tenant() if connection.schema_name != "public" else None
    private = private_experts_for_ranking() if tenant and tenant.configuration.features.custom_agents else []
    reorder = None
    if rerank_enabled(tenant):
        def reorder(ranked):
            return llm_order(ranked, tenant=tenant, question=question, k=k, catalog_version=catalog.version)
    chosen = rank_rows(catalog=catalog, vector=embedding.result()[0], lexemes=lexemes, steering=steering, k=k,
                       minimum=minimum, role_plan=role_plan, domains=domains, diverse=diverse, reorder=reorder,
                       private=private)

    # The winners in full, with the words of their profiles.
    agents = (Agent.objects.defer("embedding", "search_vector")
              .annotate(profile_lexemes=_profile_words())
              .in_bulk([candidate.id for candidate in chosen if not candidate.private]))
    own = CustomAgent.objects.defer("embedding").in_bulk([candidate.id for candidate in chosen if candidate.private])
    words = {row[0]: row[5] for row in private}
    for agent in own.values():
        agent.profile_lexemes = words.get(agent.pk) or []
    ranked = []
    for candidate in chosen:
        agent = own[candidate.id] if candidate.private else agents[candidate.id]
        reasons = _score_reasons(candidate, steering, agent, lexemes) + candidate.reasons
        ranked.append(RankedAgent(agent=agent, score=candidate.score, relevance=round(candidate.relevance, 4),
                                  role=candidate.role, reasons=reasons))
    return ranked


def rank_rows(*, catalog: CatalogMatrix, vector, lexemes: list[str], steering: Steering, k: int, minimum: int,
              role_plan: dict | None = None, domains: list[str] | None = None, diverse: bool = True,
              weights: Weights = WEIGHTS, reorder=None, private: list[tuple] = ()) -> list[Candidate]:
    """The seats for a question already embedded and stemmed (no database reads: the
    evaluation calls this with other weights). `reorder` may change the order the
    candidates are seated in (the model's re-rank, agents/rerank.py)."""
    scored = candidates(vector=vector, lexemes=lexemes, domains=domains, disabled=steering.disabled,
                        catalog=catalog, weights=weights, pool=max(POOL, 10 * k), private=private)
    best = max((candidate.relevance for candidate in scored), default=0.0)
    floor, boost_floor = weights.floor * best, weights.boost_floor * best
    for candidate in scored:
        candidate.score = round(candidate.relevance * _boost(candidate, steering, boost_floor), 4)
    scored.sort(key=lambda c: (-c.score, c.slug))
    if reorder is not None:
        scored = reorder(scored)
    seats = _role_seats(role_plan, k) if role_plan else [("expert", None)] * k
    spread = diverse and not (bool(domains) and len(domains) == 1)
    return _pick(scored, seats=seats, minimum=minimum, floor=floor, diverse=spread,
                 margin=weights.diversity_margin)


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
    vectors: np.ndarray  # float32, one unit-length profile row per agent
    examples: np.ndarray  # float32 unit rows, grouped by agent (an agent without examples: its profile)
    example_grid: np.ndarray  # per agent, the rows of its examples in `examples` (padded with its first)
    example_texts: list[str | None]  # None for a profile standing in for examples
    profile_hub: np.ndarray  # each agent's profile: mean cosine to the other agents' example questions
    example_hub: np.ndarray  # each agent's examples: the same
    example_centroid: np.ndarray  # the mean of every written example question (private experts' hubness)
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
    vectors = _unit(np.array([row[5] for row in rows], dtype=np.float32).reshape(len(rows), -1))
    by_agent: dict[int, list[tuple[str, object]]] = {}
    for agent_id, text, embedding in (AgentExample.objects.filter(agent_id__in=[row[0] for row in rows])
                                      .order_by("agent_id", "id").values_list("agent_id", "text", "embedding")):
        by_agent.setdefault(agent_id, []).append((text, embedding))
    texts: list[str | None] = []
    example_vectors, owners, grid = [], [], []
    for index, row in enumerate(rows):
        grid.append([])
        for text, embedding in by_agent.get(row[0]) or [(None, vectors[index])]:
            grid[-1].append(len(texts))
            texts.append(text)
            example_vectors.append(embedding)
            owners.append(index)
    width = max((len(own) for own in grid), default=1)
    examples = _unit(np.array(example_vectors, dtype=np.float32).reshape(len(texts), -1))
    written = np.array([text is not None for text in texts], dtype=bool)
    profile_hub, example_hub = _hubness(vectors, examples, np.array(owners, dtype=int), written)
    centroid = examples[written].mean(axis=0) if written.any() else np.zeros(vectors.shape[1], dtype=np.float32)
    postings: dict[str, list[int]] = {}
    for index, row in enumerate(rows):
        for word in set(row[6] or ()):
            postings.setdefault(word, []).append(index)
    return CatalogMatrix(
        version=version, ids=[row[0] for row in rows], slugs=np.array([row[1] for row in rows], dtype=object),
        domains=np.array([row[2] for row in rows], dtype=object), dispositions=[row[3] for row in rows],
        incompatible=[list(row[4] or []) for row in rows], vectors=vectors, examples=examples,
        example_grid=np.array([own + own[:1] * (width - len(own)) for own in grid], dtype=int).reshape(len(rows), width),
        example_texts=texts, profile_hub=profile_hub,
        example_hub=example_hub, example_centroid=centroid, postings={word: np.array(indexes) for word, indexes in postings.items()},
    )


def _unit(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms > 0, norms, 1)


def _hubness(vectors: np.ndarray, examples: np.ndarray, owners: np.ndarray, written: np.ndarray):
    """How near each agent sits to everyone's questions: the mean cosine of its profile,
    and of its examples, to the example questions written for the other agents. With unit
    rows a mean of cosines is the cosine-sum with the mean row, so this is one product."""
    agents = len(vectors)
    if not agents or not written.any():
        return np.zeros(agents, dtype=np.float32), np.zeros(agents, dtype=np.float32)
    own_sum = np.zeros_like(vectors)
    np.add.at(own_sum, owners[written], examples[written])
    own_count = np.bincount(owners[written], minlength=agents)
    others = (examples[written].sum(axis=0) - own_sum) / np.maximum(written.sum() - own_count, 1)[:, None]
    profile_hub = np.einsum("ij,ij->i", vectors, others)
    example_hub = np.einsum("ij,ij->i", examples, others[owners])
    return profile_hub, np.bincount(owners, weights=example_hub, minlength=agents) / np.bincount(owners, minlength=agents)


def _profile_words():
    """The words of an agent's profile as its search vector holds them (stemmed)."""
    return Func(F("search_vector"), function="tsvector_to_array", output_field=ArrayField(TextField()))


def word_match(catalog: CatalogMatrix, lexemes: list[str]) -> np.ndarray:
    """For each agent, the share of the question's words found in its profile, each word
    weighted by its rarity in the catalog (a word no agent has still counts in the whole)."""
    weights, whole = _word_weights(catalog, lexemes)
    scores = np.zeros(len(catalog.ids))
    for word, weight in weights.items():
        rows = catalog.postings.get(word)
        if rows is not None:
            scores[rows] += weight
    return scores / whole if whole else scores


def _word_weights(catalog: CatalogMatrix, lexemes: list[str]) -> tuple[dict[str, float], float]:
    """Each of the question's words with its weight, log(1 + agents / agents with it), and their sum."""
    weights = {word: math.log(1 + len(catalog.ids) / max(len(catalog.postings.get(word, ())), 1))
               for word in set(lexemes)}
    return weights, sum(weights.values())


def _private_word_match(catalog: CatalogMatrix, lexemes: list[str], profiles: list) -> np.ndarray:
    """word_match for private experts, with the catalog's word weights."""
    weights, whole = _word_weights(catalog, lexemes)
    if not whole:
        return np.zeros(len(profiles))
    return np.array([sum(weights[word] for word in weights if word in set(words or ())) / whole
                     for words in profiles])


def candidates(*, vector, lexemes: list[str], domains: list[str] | None = None, disabled=frozenset(),
               pool: int = POOL, catalog: CatalogMatrix | None = None, weights: Weights = WEIGHTS,
               private: list[tuple] = ()) -> list[Candidate]:
    """The `pool` most relevant eligible agents for the question's embedding `vector` and
    stemmed words `lexemes`, each with its signals and its relevance. `private`: the
    tenant's own experts (agents.tenant.selectors.private_experts_for_ranking), scored with
    the catalog: an expert without example questions is matched by its profile."""
    catalog = catalog or catalog_matrix()
    query = np.asarray(vector, dtype=np.float32)
    query = query / (np.linalg.norm(query) or 1)
    similarity = catalog.vectors @ query
    per_example = catalog.examples @ query
    closest = np.sort(per_example[catalog.example_grid], axis=1)[:, -2:]
    example_similarity = closest.mean(axis=1)  # the two closest examples of each agent
    words = word_match(catalog, lexemes)
    slugs, domains_of = catalog.slugs, catalog.domains
    profile_hub, example_hub = catalog.profile_hub, catalog.example_hub
    if private:
        own = _unit(np.array([row[4] for row in private], dtype=np.float32).reshape(len(private), -1))
        own_similarity, own_hub = own @ query, own @ catalog.example_centroid
        similarity = np.concatenate([similarity, own_similarity])
        example_similarity = np.concatenate([example_similarity, own_similarity])
        words = np.concatenate([words, _private_word_match(catalog, lexemes, [row[5] for row in private])])
        slugs = np.concatenate([slugs, np.array([row[1] for row in private], dtype=object)])
        domains_of = np.concatenate([domains_of, np.array([row[2] for row in private], dtype=object)])
        profile_hub = np.concatenate([profile_hub, own_hub])
        example_hub = np.concatenate([example_hub, own_hub])
    eligible = np.ones(len(slugs), dtype=bool)
    if disabled:
        eligible &= ~np.isin(slugs, list(disabled))
    if domains:
        eligible &= np.isin(domains_of, list(domains))
    rows = np.flatnonzero(eligible)
    if not len(rows):
        return []
    relevance = (weights.profile * _scaled(similarity[rows] - weights.hub * profile_hub[rows])
                 + weights.example * _scaled(example_similarity[rows] - weights.hub * example_hub[rows])
                 + weights.words * _scaled(words[rows]))
    order = np.argsort(-relevance, kind="stable")[:pool]
    size = len(catalog.ids)
    found = []
    for index, row in zip(order, rows[order]):
        if row < size:
            found.append(Candidate(
                id=catalog.ids[row], slug=catalog.slugs[row], domain=catalog.domains[row],
                disposition=catalog.dispositions[row], incompatible_agents=catalog.incompatible[row],
                similarity=float(similarity[row]), example_similarity=float(example_similarity[row]),
                word_match=float(words[row]), example=_closest_example(catalog, row, per_example),
                relevance=float(relevance[index])))
        else:
            mine = private[row - size]
            found.append(Candidate(
                id=mine[0], slug=mine[1], domain=mine[2], disposition=mine[3], incompatible_agents=[],
                similarity=float(similarity[row]), example_similarity=float(example_similarity[row]),
                word_match=float(words[row]), relevance=float(relevance[index]), private=True))
    return found


def _closest_example(catalog: CatalogMatrix, row: int, per_example: np.ndarray) -> str | None:
    own = catalog.example_grid[row]
    return catalog.example_texts[own[int(np.argmax(per_example[own]))]]


def _scaled(values: np.ndarray) -> np.ndarray:
    """Min-max scaled to [0, 1] over the eligible agents (all 0 when they are all equal)."""
    low, high = values.min(), values.max()
    return (values - low) / (high - low) if high > low else np.zeros_like(values)


def usage_boost(stats: Usage | None) -> float:
    """1 + 0.4 x min(use_count / 100 x avg_rating, 0.5): at most x1.2; x1 for an agent
    never used or never rated here."""
    if not stats or not stats.use_count or not stats.avg_rating:
        return 1.0
    return 1 + USAGE_WEIGHT * min(stats.use_count / 100 * stats.avg_rating, USAGE_CAP)


def _boost(candidate: Candidate, steering: Steering, floor: float) -> float:
    """The tenant's boosts, for a candidate at or above the boost floor only."""
    if candidate.relevance < floor:
        return 1.0
    preferred = PREFERRED_BOOST if candidate.slug in steering.preferred else 1.0
    return preferred * usage_boost(steering.usage.get(candidate.slug))


def _score_reasons(candidate: Candidate, steering: Steering, agent: Agent, lexemes: list[str]) -> list[str]:
    """Why the candidate scored what it did (written for the winners only)."""
    reasons = [f"Profile matches the question (relevance {candidate.relevance:.2f}, "
               f"similarity {candidate.similarity:.2f})"]
    if candidate.private:
        reasons.append("Private: one of your organisation's own experts")
    if candidate.example:
        reasons.append(f"Close to a question it answers: “{candidate.example}” "
                       f"(similarity {candidate.example_similarity:.2f})")
    matched = sorted(set(agent.profile_lexemes or ()) & set(lexemes))
    if matched:
        reasons.append("Matches: " + ", ".join(matched[:6]))
    boosted = candidate.score > candidate.relevance
    if candidate.slug in steering.preferred:
        reasons.append(f"Preferred by your organisation for {DOMAINS[candidate.domain]} (x{PREFERRED_BOOST})"
                       if boosted else "Preferred by your organisation, but not among the most relevant for this "
                                       "question (no boost)")
    stats = steering.usage.get(candidate.slug)
    if usage_boost(stats) > 1:
        reasons.append(f"Used {stats.use_count} times here, rated {stats.avg_rating:.1f}/5 "
                       + (f"(x{usage_boost(stats):.2f})" if boosted else "(no boost: not among the most relevant)"))
    return reasons


def _domain_cap(k: int) -> int:
    return 2 if k <= 5 else 3 if k <= 9 else math.ceil(k / 3)


def _compatible(candidate: Candidate, chosen: list[Candidate]) -> bool:
    """Neither lists the other as incompatible (whole slugs)."""
    return not any(candidate.slug in other.incompatible_agents or other.slug in candidate.incompatible_agents
                   for other in chosen)


def _role_seats(plan: dict, k: int) -> list[tuple[str, tuple[str, ...]]]:
    """The seats of a panel type with roles: its first seats, then its cycle, up to k."""
    seats = list(plan["first"])
    while len(seats) < k:
        seats.append(plan["cycle"][(len(seats) - len(plan["first"])) % len(plan["cycle"])])
    return seats[:k]


def _pick(ranked: list[Candidate], *, seats: list[tuple[str, tuple[str, ...] | None]], minimum: int, floor: float,
          diverse: bool, margin: float) -> list[Candidate]:
    """Fill the seats in order, each with the best-scoring compatible candidate its role
    allows; see the module docstring for the floor and the diversity preference."""
    chosen: list[Candidate] = []
    per_domain: Counter = Counter()
    cap = _domain_cap(len(seats))
    for role, dispositions in seats:
        available = [c for c in ranked if c not in chosen and (dispositions is None or c.disposition in dispositions)
                     and _compatible(c, chosen)]
        if not available:
            continue
        best = available[0]
        if len(chosen) >= minimum and best.relevance < floor:
            break  # no filler
        pick = best
        if diverse and per_domain[best.domain] >= cap:
            pick = next((c for c in available if per_domain[c.domain] < cap and c.relevance >= floor
                         and c.score >= margin * best.score), best)
            if pick is not best:
                pick.reasons.append(f"Chosen over {best.slug} for variety: {DOMAINS[best.domain]} already has "
                                    f"{per_domain[best.domain]} seats; adds {DOMAINS[pick.domain]}")
        if pick.relevance < floor:
            pick.reasons.append(f"Below the relevance floor; seated to reach the panel's minimum of {minimum}")
        if role != "expert":
            pick.role = role
            pick.reasons.append(ROLE_REASONS[role])
        per_domain[pick.domain] += 1
        chosen.append(pick)
    return chosen
