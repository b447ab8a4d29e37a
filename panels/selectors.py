"""Reads of panels (the active tenant's schema). A member sees their own panels; a tenant
admin sees every panel of the tenant."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from agents.ranking import RankedAgent, rank_agents
from config.errors import NotFound
from panels.models import Contribution, Panel, PanelEvent, Round
from panels.types import panel_type_get


def panel_list(*, user, status: str | None = None, panel_type: str | None = None) -> QuerySet[Panel]:
    panels = Panel.objects.all() if user.is_staff else Panel.objects.filter(owner=user)
    if status:
        panels = panels.filter(status=status.upper())
    if panel_type:
        panels = panels.filter(panel_type=panel_type)
    return panels.select_related("owner")


def panel_get(*, user, panel_id: int) -> Panel:
    panel = panel_list(user=user).filter(pk=panel_id).first()
    if panel is None:
        raise NotFound(f"There is no panel {panel_id}.")
    return panel


def panel_detail(*, user, panel_id: int) -> Panel:
    """A panel with everything its report shows, in a few queries."""
    panel_get(user=user, panel_id=panel_id)
    contributions = Contribution.objects.select_related("member", "member__agent").order_by("member__seat", "id")
    return (Panel.objects.select_related("owner", "consensus", "recommendation")
            .prefetch_related("members__agent",
                              Prefetch("rounds", queryset=Round.objects.prefetch_related(
                                  Prefetch("contributions", queryset=contributions))))
            .get(pk=panel_id))


def panel_events(*, panel: Panel, after: int = 0, limit: int = 500) -> list[PanelEvent]:
    return list(PanelEvent.objects.filter(panel=panel, id__gt=after).order_by("id")[:limit])


def experts_recommend(*, question: str, k: int, panel_type: str | None = None,
                      domains: list[str] | None = None) -> list[RankedAgent]:
    """Experts ranked for a question, with the debate roles of the panel type (if given)."""
    role_plan = panel_type_get(panel_type).role_plan if panel_type else None
    return rank_agents(question=question, k=k, role_plan=role_plan, domains=domains)
