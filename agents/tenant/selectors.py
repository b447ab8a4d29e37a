"""Reads of the tenant side of agents (the active tenant's schema)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import NamedTuple

from agents.tenant.models import AgentPreferences, AgentUsage


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


# Both reads as one message, so ranking can send them with its catalog read (one round
# trip): the preferences' row (none if never set), then the usage rows.
STEERING_SQL = (
    f'SELECT preferred, disabled FROM "{AgentPreferences._meta.db_table}" ORDER BY id LIMIT 1;\n'
    f'SELECT agent_id, use_count, avg_rating FROM "{AgentUsage._meta.db_table}";\n'
)


def steering_from_rows(preferences: list[tuple], usage: list[tuple]) -> Steering:
    """The Steering that STEERING_SQL's two result sets describe (a cursor returns the
    JSON columns as text)."""
    row = AgentPreferences(preferred=json.loads(preferences[0][0]), disabled=json.loads(preferences[0][1])) \
        if preferences else AgentPreferences()
    return Steering(preferred=frozenset(row.preferred_slugs), disabled=frozenset(row.disabled),
                    usage={agent_id: Usage(use_count, avg_rating) for agent_id, use_count, avg_rating in usage})
