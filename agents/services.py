"""Writes of the shared catalog (public schema)."""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import asdict, dataclass, field

from django.db import connection, transaction
from django.utils import timezone
from django_tenants.utils import schema_context

from agents.catalog.loader import CATALOG_DIR, AgentSpec, read_catalog
from agents.domains import DOMAINS
from agents.models import Agent, AgentExample
from llm.embeddings import get_embedder

logger = logging.getLogger(__name__)


@dataclass
class LoadReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: int = 0
    retired: list[str] = field(default_factory=list)
    reactivated: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (f"{len(self.created)} created, {len(self.updated)} updated, {self.unchanged} unchanged, "
                f"{len(self.retired)} retired, {len(self.reactivated)} reactivated")


# Bump when what is derived from a profile changes (embedding_text, the search vector,
# the examples' embeddings), so the next load derives every agent again.
DERIVATION = 2


def profile_hash(spec: AgentSpec) -> str:
    data = asdict(spec)
    data["cost_per_query"] = str(data["cost_per_query"])
    data["derivation"] = DERIVATION
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def embedding_text(spec: AgentSpec) -> str:
    """What the agent's vector is made of: who it is and what it covers (<= 256 tokens)."""
    return ". ".join([spec.title, DOMAINS[spec.domain], *spec.capabilities, *spec.knowledge_domains])


SEARCH_VECTOR_SQL = """
UPDATE agents_agent SET search_vector =
    setweight(to_tsvector('english', %s), 'A') ||
    setweight(to_tsvector('english', %s), 'B') ||
    setweight(to_tsvector('english', %s), 'C') ||
    setweight(to_tsvector('english', %s), 'D')
WHERE id = %s
"""


def _search_texts(spec: AgentSpec) -> tuple[str, str, str, str]:
    return (
        f"{spec.title} {DOMAINS[spec.domain]} {spec.business_function}",
        " ".join([*spec.capabilities, *spec.knowledge_domains]),
        " ".join(spec.key_considerations),
        " ".join(spec.example_questions),
    )


def agents_load(*, directory=CATALOG_DIR, minimum: int | None = None) -> LoadReport:
    """Make the catalog table match the files: create, update what changed, retire what
    is gone (kept for the panels that used it). Idempotent; all or nothing."""
    specs = read_catalog(directory) if minimum is None else read_catalog(directory, minimum=minimum)
    report = LoadReport()
    with schema_context("public"):
        existing = {agent.slug: agent for agent in Agent.objects.all()}
        changed = [spec for spec in specs
                   if spec.slug not in existing or existing[spec.slug].profile_hash != profile_hash(spec)]
        texts = [embedding_text(spec) for spec in changed] + [text for spec in changed for text in spec.example_questions]
        vectors = list(get_embedder().embed(texts)) if changed else []
        example_vectors = iter(vectors[len(changed):])
        with transaction.atomic():
            for spec, vector in zip(changed, vectors):
                values = {
                    "name": spec.name, "title": spec.title, "domain": spec.domain,
                    "business_function": spec.business_function, "tier": spec.tier,
                    "disposition": spec.disposition, "capabilities": list(spec.capabilities),
                    "knowledge_domains": list(spec.knowledge_domains),
                    "key_considerations": list(spec.key_considerations), "system_prompt": spec.system_prompt,
                    "compatible_agents": list(spec.compatible_agents),
                    "incompatible_agents": list(spec.incompatible_agents), "cost_per_query": spec.cost_per_query,
                    "profile_hash": profile_hash(spec), "embedding": vector.tolist(),
                    "is_active": True, "retired_at": None,
                }
                agent, created = Agent.objects.update_or_create(slug=spec.slug, defaults=values)
                (report.created if created else report.updated).append(spec.slug)
                AgentExample.objects.filter(agent=agent).delete()
                AgentExample.objects.bulk_create(
                    AgentExample(agent=agent, text=text, embedding=next(example_vectors).tolist())
                    for text in spec.example_questions)
                with connection.cursor() as cursor:
                    cursor.execute(SEARCH_VECTOR_SQL, [*_search_texts(spec), agent.id])
            current = {spec.slug for spec in specs}
            for spec in specs:
                agent = existing.get(spec.slug)
                if agent is not None and not agent.is_active and spec not in changed:
                    Agent.objects.filter(pk=agent.pk).update(is_active=True, retired_at=None)
                    report.reactivated.append(spec.slug)
            for slug, agent in existing.items():
                if slug not in current and agent.is_active:
                    Agent.objects.filter(pk=agent.pk).update(is_active=False, retired_at=timezone.now())
                    report.retired.append(slug)
            report.unchanged = len(specs) - len(changed) - len(report.reactivated)
    logger.info("agent catalog loaded: %s", report.summary())
    return report


def agent_set_active(*, agent: Agent, active: bool) -> Agent:
    agent.is_active = active
    agent.retired_at = None if active else timezone.now()
    agent.save(update_fields=["is_active", "retired_at", "updated_at"])
    return agent
