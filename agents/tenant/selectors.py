"""Reads of the tenant side of agents (the active tenant's schema)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from django.contrib.postgres.fields import ArrayField
from django.db.models import F, Func, TextField

from agents.tenant.models import AgentPreferences, AgentUsage, CustomAgent


def agent_usage_get(*, agent) -> AgentUsage | None:
    """How this tenant has used and rated an agent (None if never)."""
    return AgentUsage.objects.filter(agent_id=agent.pk).first()


def preferences_get() -> AgentPreferences:
    """This tenant's preferences (an unsaved empty one if it never set any)."""
    return AgentPreferences.objects.order_by("id").first() or AgentPreferences()


class Usage(NamedTuple):
    use_count: int
    avg_rating: float


@dataclass(frozen=True)
class Steering:
    """What this tenant's preferences and usage do to ranking."""

    preferred: frozenset[str]  # slugs, whatever their domain (x1.2)
    disabled: frozenset[str]  # slugs never returned
    usage: dict[str, Usage]  # by slug (catalog and private experts)


def steering_get() -> Steering:
    """This tenant's steering of expert ranking: its preferences and its usage."""
    preferences = preferences_get()
    usage = {slug: Usage(use_count, avg_rating)
             for slug, use_count, avg_rating in AgentUsage.objects.values_list("agent__slug", "use_count", "avg_rating")}
    usage.update((slug, Usage(use_count, avg_rating)) for slug, use_count, avg_rating
                 in CustomAgent.objects.filter(use_count__gt=0).values_list("slug", "use_count", "avg_rating"))
    return Steering(preferred=frozenset(preferences.preferred_slugs), disabled=frozenset(preferences.disabled),
                    usage=usage)


def custom_agent_list(*, domain: str | None = None, tier: int | None = None, query: str | None = None) -> list:
    """This tenant's private experts by name, passing the catalog list's filters (words of
    the query in the slug, name, title or capabilities)."""
    words = (query or "").lower()
    return [agent for agent in CustomAgent.objects.order_by("name").defer("embedding")
            if (not domain or agent.domain == domain) and (not tier or agent.tier == tier)
            and (not words or words in " ".join([agent.slug, agent.name, agent.title, *agent.capabilities]).lower())]


def custom_agent_get(*, slug: str) -> CustomAgent | None:
    return CustomAgent.objects.filter(slug=slug).first()


def private_experts_for_ranking() -> list[tuple]:
    """(id, slug, domain, disposition, embedding, profile words) of this tenant's private
    experts with an embedding; the words stemmed by Postgres as the catalog's are."""
    words = Func(Func(F("title"), F("business_function"), F("capabilities"), F("knowledge_domains"),
                      function="concat_ws", template="concat_ws(' ', %(expressions)s)"),
                 function="to_tsvector", template="tsvector_to_array(to_tsvector('english', %(expressions)s))",
                 output_field=ArrayField(TextField()))
    return list(CustomAgent.objects.filter(embedding__isnull=False).order_by("id").annotate(words=words)
                .values_list("id", "slug", "domain", "disposition", "embedding", "words"))
