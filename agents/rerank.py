"""Re-ranking the best experts with the tenant's model (optional: `llm.rerank_experts`).

With a real LLM configured for the tenant and `llm.rerank_experts` on, the RERANK_POOL best
candidates of the deterministic ranking go to the model with the question. It answers with
structured output: the slugs it would seat, best first, and a one-line reason each. Its
choice leads the order (the rest follow by score); picking then applies the same rules
(roles, incompatible pairs, the floor past the minimum). The choice is cached for a day per
tenant (the default cache's keys carry the tenant's schema), question, model and catalog
version, so asking again costs no call. The deterministic ranking is the default (the
offline provider never re-ranks) and the fallback on any provider error or unusable answer.
"""

from __future__ import annotations

import hashlib
import json
import logging

from django.core.cache import cache

from agents.models import Agent
from llm.base import ChatRequest, Message
from llm.client import RetryPolicy
from llm.errors import ProviderError
from llm.providers import llm_client, provider_settings
from llm.services import llm_call_recorder
from llm.structured import extract_json_object

logger = logging.getLogger(__name__)

RERANK_POOL = 20
CACHE_SECONDS = 24 * 3600
REASON_MAX = 200
PURPOSE = "expert-rerank"

RERANK_SCHEMA = {
    "type": "object",
    "properties": {
        "experts": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"slug": {"type": "string"}, "reason": {"type": "string"}},
                "required": ["slug", "reason"],
            },
        },
    },
    "required": ["experts"],
}

SYSTEM = ("You choose the experts for a panel that will answer a life-sciences question. From the candidates "
          "listed, pick the ones whose expertise the question needs, most needed first, and give a one-line "
          "reason for each. Use only the slugs listed. Reply with JSON matching this schema (no other text):\n"
          + json.dumps(RERANK_SCHEMA))


def rerank_enabled(tenant) -> bool:
    """On for a tenant that asked for it and whose provider is a real model."""
    if tenant is None or getattr(tenant, "is_public", True) or not hasattr(tenant, "configuration"):
        return False
    return tenant.configuration.llm.rerank_experts and provider_settings(tenant).provider != "offline"


def llm_order(candidates: list, *, tenant, question: str, k: int, catalog_version: int) -> list:
    """The candidates with the model's choice first, each with its reason; unchanged when
    the model cannot be asked or answers with nothing usable."""
    pool = candidates[:RERANK_POOL]
    client = llm_client(tenant=tenant, retry=RetryPolicy(max_attempts=1),
                        recorders=[llm_call_recorder(purpose=PURPOSE)])
    key = "agents:rerank:" + hashlib.sha256(json.dumps(
        [client.name, client.model, catalog_version, k, [c.slug for c in pool], question]).encode()).hexdigest()
    picks = cache.get(key)
    if picks is None:
        try:
            picks = _ask(client, question=question, pool=pool, k=k)
        except (ProviderError, ValueError) as failure:
            logger.warning("expert re-rank by %s failed (%s); using the deterministic ranking", client.name,
                           getattr(failure, "message", failure))
            return candidates
        if not picks:
            logger.warning("expert re-rank by %s chose none of the candidates; using the deterministic ranking",
                           client.name)
            return candidates
        cache.set(key, picks, CACHE_SECONDS)
    by_slug = {candidate.slug: candidate for candidate in pool}
    chosen = []
    for slug, reason in picks:
        candidate = by_slug[slug]
        candidate.reasons.append(f"Chosen by {client.model}: {reason}")
        chosen.append(candidate)
    return chosen + [candidate for candidate in candidates if candidate not in chosen]


def _ask(client, *, question: str, pool: list, k: int) -> list[tuple[str, str]]:
    """The model's picks among the pool, as (slug, reason), known slugs only, once each."""
    profiles = {agent.slug: agent for agent in Agent.objects.filter(slug__in=[c.slug for c in pool])
                .only("slug", "title", "domain", "capabilities")}
    listing = "\n".join(
        f"- {c.slug}: {profiles[c.slug].title} ({profiles[c.slug].domain_label}). "
        f"{'; '.join(profiles[c.slug].capabilities[:2])}" for c in pool if c.slug in profiles)
    request = ChatRequest(system=SYSTEM, max_tokens=80 * k + 100, temperature=0.0, json_schema=RERANK_SCHEMA,
                          messages=(Message("user", f"Question: {question}\n\nPick up to {k} of these candidates:\n"
                                                    f"{listing}"),))
    answer = extract_json_object(client.chat(request).text)
    experts = answer.get("experts")
    if not isinstance(experts, list):
        raise ValueError("the answer has no list of experts")
    picks: dict[str, str] = {}
    for item in experts:
        if isinstance(item, dict) and item.get("slug") in profiles and item["slug"] not in picks:
            picks[item["slug"]] = " ".join(str(item.get("reason") or "no reason given").split())[:REASON_MAX]
    return list(picks.items())[:k]
