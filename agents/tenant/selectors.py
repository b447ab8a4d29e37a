"""Reads of the tenant side of agents (the active tenant's schema)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from agents.tenant.models import AgentPreferences, AgentUsage


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
    usage: dict[int, Usage]  # by agent id


def steering_get() -> Steering:
    """This tenant's steering of expert ranking: its preferences and its usage."""
    preferences = preferences_get()
    usage = AgentUsage.objects.values_list("agent_id", "use_count", "avg_rating")
    return Steering(preferred=frozenset(preferences.preferred_slugs), disabled=frozenset(preferences.disabled),
                    usage={agent_id: Usage(use_count, avg_rating) for agent_id, use_count, avg_rating in usage})
