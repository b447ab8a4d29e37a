"""Reads of the tenant side of agents (the active tenant's schema)."""

from __future__ import annotations

from agents.tenant.models import AgentPreferences, AgentUsage


def preferences_get() -> AgentPreferences:
    """This tenant's preferences (an unsaved empty one if it never set any)."""
    return AgentPreferences.objects.order_by("id").first() or AgentPreferences()


def usage_by_agent_id() -> dict[int, AgentUsage]:
    return {usage.agent_id: usage for usage in AgentUsage.objects.all()}
