"""Reads of the shared catalog (public tables; readable from any tenant's schema)."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from agents.models import Agent


def agent_list(*, domain: str | None = None, tier: int | None = None, query: str | None = None,
               include_retired: bool = False) -> QuerySet[Agent]:
    agents = Agent.objects.all() if include_retired else Agent.objects.filter(is_active=True)
    if domain:
        agents = agents.filter(domain=domain)
    if tier:
        agents = agents.filter(tier=tier)
    if query:
        agents = agents.filter(
            Q(search_vector=_prefix_query(query)) | Q(name__icontains=query) | Q(title__icontains=query)
            | Q(slug__icontains=query)
        )
    return agents.defer("embedding", "search_vector")


def _prefix_query(text: str):
    from django.contrib.postgres.search import SearchQuery

    return SearchQuery(text, search_type="websearch", config="english")


def agent_get(*, slug: str, include_retired: bool = True) -> Agent | None:
    agents = Agent.objects.all() if include_retired else Agent.objects.filter(is_active=True)
    return agents.defer("embedding", "search_vector").filter(slug=slug).first()


def agents_by_slug(slugs) -> dict[str, Agent]:
    return {agent.slug: agent for agent in Agent.objects.filter(slug__in=list(slugs)).defer("embedding", "search_vector")}
