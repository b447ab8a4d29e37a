"""Reads of saved panel templates (the active tenant's schema). Everyone sees the tenant's
shared templates and their own; the owner or a tenant admin may change one."""

from __future__ import annotations

import string
from dataclasses import dataclass, field

from django.db.models import (
    Case,
    Exists,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)

from agents.models import Agent
from agents.ranking import RankedAgent, rank_agents
from agents.tenant.models import CustomAgent
from agents.tenant.selectors import preferences_get
from config.errors import NotFound
from panels.models import PanelTemplate
from tenants.context import current_tenant

Favourite = PanelTemplate.favourite_of.through
from tenants.roles import can_manage


def template_list(*, user) -> QuerySet[PanelTemplate]:
    """The templates the user may use, their favourites first, then by name; each carries
    `is_favourite` (for this user)."""
    favourite = Exists(Favourite.objects.filter(paneltemplate_id=OuterRef("pk"), user_id=user.pk))
    return (PanelTemplate.objects.filter(Q(shared=True) | Q(owner=user))
            .annotate(is_favourite=favourite,
                      favourite_first=Case(When(is_favourite=True, then=Value(0)), default=Value(1),
                                           output_field=IntegerField()))
            .select_related("owner").order_by("favourite_first", "name", "id"))


def template_get(*, user, template_id: int) -> PanelTemplate:
    template = template_list(user=user).filter(pk=template_id).first()
    if template is None:
        raise NotFound(f"There is no panel template {template_id}.")
    return template


def template_can_edit(*, user, template: PanelTemplate) -> bool:
    return can_manage(user, owner_id=template.owner_id)


def template_placeholders(question_template: str) -> list[str]:
    """The `{names}` of a question template, in order, once each (it must be well-formed:
    template_services checks that before saving)."""
    names = [name for _, name, _, _ in string.Formatter().parse(question_template or "") if name]
    return list(dict.fromkeys(names))


@dataclass(frozen=True)
class UnavailableExpert:
    slug: str
    reason: str  # retired, disabled, deleted, not_in_plan


@dataclass(frozen=True)
class TemplateAvailability:
    """Which of a template's experts can no longer be seated, and who could take their seats."""

    unavailable: list[UnavailableExpert]
    replacements: list[RankedAgent] = field(default_factory=list)

    @property
    def unavailable_slugs(self) -> list[str]:
        return [expert.slug for expert in self.unavailable]


UNAVAILABLE_REASONS = {
    "retired": "retired from the catalog",
    "disabled": "disabled by your organisation",
    "deleted": "deleted (or never existed)",
    "not_in_plan": "a private expert, and your plan has no private experts",
}


def template_experts_unavailable(*, experts: list[str]) -> list[UnavailableExpert]:
    """The experts among `experts` (slugs) that a panel could not seat now: retired from
    the catalog, disabled by the tenant, private ones deleted, or private ones on a plan
    without `custom_agents`."""
    if not experts:
        return []
    catalog = dict(Agent.objects.filter(slug__in=experts).values_list("slug", "is_active"))
    private = set(CustomAgent.objects.filter(slug__in=experts).values_list("slug", flat=True))
    disabled = set(preferences_get().disabled)
    private_allowed = current_tenant().configuration.features.custom_agents
    found = []
    for slug in experts:
        if slug in disabled:
            found.append(UnavailableExpert(slug, "disabled"))
        elif slug in catalog:
            if not catalog[slug]:
                found.append(UnavailableExpert(slug, "retired"))
        elif slug in private:
            if not private_allowed:
                found.append(UnavailableExpert(slug, "not_in_plan"))
        else:
            found.append(UnavailableExpert(slug, "deleted"))
    return found


def template_availability(*, template: PanelTemplate) -> TemplateAvailability:
    """The template's unavailable experts and, when there are some, as many replacements
    ranked for the template's question (or its name) that are not already on it."""
    unavailable = template_experts_unavailable(experts=template.experts)
    if not unavailable:
        return TemplateAvailability(unavailable=[])
    keep = set(template.experts)
    question = template.question_template.strip() or template.name
    ranked = rank_agents(question=question, k=len(unavailable) + len(keep), minimum=1)
    replacements = [item for item in ranked if item.agent.slug not in keep][:len(unavailable)]
    return TemplateAvailability(unavailable=unavailable, replacements=replacements)
