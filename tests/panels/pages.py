"""Helpers for the panel page tests: panels, rounds and contributions built directly
(page tests need no worker). The signed-in client is tests/conftest.py's page_client."""

from django_tenants.utils import schema_context

QUESTION = "Should we file a De Novo or a 510(k) for our AI-based ECG arrhythmia detection software?"


def experts(count: int) -> list[str]:
    from agents.models import Agent

    return list(Agent.objects.filter(is_active=True).order_by("slug").values_list("slug", flat=True)[:count])


def make_panel(tenant, user, *, query=QUESTION, panel_type="structured", status=None, **fields):
    """A panel with members as panel_create makes it (queued), then moved to `status` by
    its own transition table."""
    from panels.lifecycle import Status
    from panels.models import Panel
    from panels.services import panel_create

    path = [Status.ASSIGNING_EXPERTS, Status.IN_PROGRESS, Status.BUILDING_CONSENSUS, Status.COMPLETED]
    with schema_context(tenant.schema_name):
        panel = panel_create(user=user, query=query, panel_type=panel_type, experts=experts(3), enqueue=False)
        if status in (Status.FAILED, Status.CANCELLED):
            panel.transition(status, error=fields.pop("error", "The model provider refused every call."))
        elif status == Status.AWAITING_INPUT:
            for step in path[:2] + [Status.AWAITING_INPUT]:
                panel.transition(step)
        elif status:
            for step in path[: path.index(status) + 1]:
                panel.transition(step)
        if fields:
            Panel.objects.filter(pk=panel.pk).update(**fields)
        panel.refresh_from_db()
        return panel


def add_contribution(tenant, panel, *, round_number=1, seat=0, text="The De Novo pathway fits: no predicate.", **fields):
    from panels.models import Contribution, Panel, PanelEvent, Round

    with schema_context(tenant.schema_name):
        round_, _ = Round.objects.get_or_create(panel=panel, number=round_number, defaults={"title": "Opening views"})
        Panel.objects.filter(pk=panel.pk).update(current_round=round_number)
        member = panel.members.get(seat=seat)
        contribution = Contribution.objects.create(panel=panel, round=round_, member=member, kind="statement",
                                                   text=text, position=text[:80], stance="support", confidence=0.7,
                                                   **fields)
        PanelEvent.objects.create(panel=panel, kind="contribution",
                                  data={"round": round_number, "contribution_id": contribution.pk})
        return contribution
