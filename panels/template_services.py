"""Writes of saved panel templates, and turning a template into a panel request. Every
field is checked before anything is written; a refusal names the field it is about."""

from __future__ import annotations

import string

from django.db import transaction

from agents.models import Agent
from agents.tenant.models import CustomAgent
from agents.tenant.selectors import preferences_get
from config.errors import Conflict, DomainError, Forbidden
from panels.models import Panel, PanelTemplate
from panels.services import QUERY_MAX
from panels.template_selectors import (
    UNAVAILABLE_REASONS, template_availability, template_can_edit, template_placeholders,
)
from panels.types import REGISTRY
from rag.models import Document
from tenants.context import current_tenant

NAME_MAX = 200
DESCRIPTION_MAX = 2000
EXPERTS_MAX = 20
DOCUMENTS_MAX = 100
PANEL_ARGUMENTS = ("query", "panel_type", "experts", "max_rounds", "documents")


class InvalidTemplate(DomainError):
    code = "invalid_template"


class TemplateExpertsUnavailable(Conflict):
    code = "template_experts_unavailable"


def _refuse(field: str, message: str, **details) -> InvalidTemplate:
    return InvalidTemplate(message, details={"field": field, **details})


def _text(data: dict, name: str, *, maximum: int, required: bool = False) -> str:
    value = data.get(name)
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise _refuse(name, f"`{name}` must be text.")
    value = value.strip()
    if required and not value:
        raise _refuse(name, f"`{name}` is required: 1 to {maximum} characters.")
    if len(value) > maximum:
        raise _refuse(name, f"`{name}` must be at most {maximum} characters; it has {len(value)}.")
    return value


def _slug_list(data: dict, name: str) -> list:
    value = data.get(name)
    if value is None:
        return []
    if not isinstance(value, list):
        raise _refuse(name, f"`{name}` must be a list.")
    return value


def question_template_check(question_template: str) -> None:
    """Placeholders are `{name}` (letters, digits, underscores); `{{` and `}}` are literal braces."""
    try:
        parts = list(string.Formatter().parse(question_template))
    except ValueError:
        raise _refuse("question_template", "The question template has an unmatched `{` or `}`; write placeholders "
                      "as {name}, and a literal brace as {{ or }}.") from None
    for _, name, format_spec, conversion in parts:
        if name is None:
            continue
        if not name.isidentifier() or format_spec or conversion:
            shown = "{" + name + (f"!{conversion}" if conversion else "") + (f":{format_spec}" if format_spec else "")
            shown += "}"
            raise _refuse("question_template", f"{shown} is not a placeholder: write placeholders as {{name}} with "
                          "letters, digits and underscores, such as {product}.", placeholder=shown)


def _template_values(data: dict) -> dict:
    """The checked fields of a template, from input (the API's or a page form's)."""
    tenant = current_tenant()
    name = _text(data, "name", maximum=NAME_MAX, required=True)
    description = _text(data, "description", maximum=DESCRIPTION_MAX)

    panel_type = data.get("panel_type")
    kind = REGISTRY.get(panel_type) if isinstance(panel_type, str) else None
    if kind is None:
        raise _refuse("panel_type", f"{panel_type!r} is not a panel type; choose one of {', '.join(REGISTRY)}.")
    features = tenant.configuration.features
    if not features.panel_type_enabled(kind.name):
        raise _refuse("panel_type", f"{kind.label} panels are not enabled for your plan ({tenant.tier}); enabled: "
                      f"{', '.join(features.enabled_panel_types)}.", enabled=features.enabled_panel_types)

    experts = list(dict.fromkeys(_slug_list(data, "experts")))
    if not all(isinstance(slug, str) for slug in experts):
        raise _refuse("experts", "`experts` must be a list of expert slugs.")
    maximum = min(kind.max_experts, tenant.configuration.limits.max_experts_per_panel)
    if experts and not kind.min_experts <= len(experts) <= maximum:
        raise _refuse("experts", f"A {kind.name} panel needs {kind.min_experts} to {maximum} experts; you chose "
                      f"{len(experts)}. Leave the list empty to let ranking choose.",
                      min=kind.min_experts, max=maximum)
    _check_experts(experts, private_allowed=features.custom_agents)

    max_rounds = data.get("max_rounds")
    if max_rounds is not None and (isinstance(max_rounds, bool) or not isinstance(max_rounds, int)
                                   or not 1 <= max_rounds <= kind.max_rounds):
        raise _refuse("max_rounds", f"A {kind.name} panel runs 1 to {kind.max_rounds} rounds; you asked for "
                      f"{max_rounds}.", max=kind.max_rounds)

    documents = sorted(set(_slug_list(data, "documents")))
    if not all(isinstance(d, int) and not isinstance(d, bool) for d in documents) or len(documents) > DOCUMENTS_MAX:
        raise _refuse("documents", f"`documents` must be a list of at most {DOCUMENTS_MAX} document ids.")
    found = set(Document.objects.filter(pk__in=documents).values_list("pk", flat=True))
    missing = [d for d in documents if d not in found]
    if missing:
        raise _refuse("documents", f"Unknown document(s): {', '.join(map(str, missing))}.", missing=missing)

    question_template = _text(data, "question_template", maximum=QUERY_MAX)
    question_template_check(question_template)

    shared = data.get("shared", False)
    if not isinstance(shared, bool):
        raise _refuse("shared", "`shared` must be true (the whole organisation) or false (only you).")
    return {"name": name, "description": description, "panel_type": kind.name, "experts": experts,
            "max_rounds": max_rounds, "documents": documents, "question_template": question_template,
            "shared": shared}


def _check_experts(experts: list[str], *, private_allowed: bool) -> None:
    if len(experts) > EXPERTS_MAX:
        raise _refuse("experts", f"Choose at most {EXPERTS_MAX} experts.")
    known = set(Agent.objects.filter(slug__in=experts, is_active=True).values_list("slug", flat=True))
    if private_allowed:
        known |= set(CustomAgent.objects.filter(slug__in=experts).values_list("slug", flat=True))
    unknown = [slug for slug in experts if slug not in known]
    if unknown:
        raise _refuse("experts", f"Unknown or retired expert(s): {', '.join(unknown)}.", unknown=unknown)
    disabled = sorted(set(experts) & set(preferences_get().disabled))
    if disabled:
        raise _refuse("experts", f"Your organisation disabled: {', '.join(disabled)}.", disabled=disabled)


def _ensure_editable(user, template: PanelTemplate) -> None:
    if not template_can_edit(user=user, template=template):
        raise Forbidden(f"Only {template.owner.username} (who saved it) or a tenant admin can change the template "
                        f"{template.name!r}.", code="not_template_owner", details={"template_id": template.pk})


def template_create(*, user, data: dict) -> PanelTemplate:
    return PanelTemplate.objects.create(owner=user, **_template_values(data))


def template_create_from_panel(*, user, panel: Panel, data: dict) -> PanelTemplate:
    """Save a panel's configuration (type, experts, rounds, documents) as a template, with
    the name, description, question template and sharing given in `data`."""
    experts = [member.expert.slug for member in panel.members.all() if member.expert is not None]
    return template_create(user=user, data={
        **data, "panel_type": panel.panel_type, "experts": experts, "max_rounds": panel.max_rounds,
        "documents": list(panel.settings.get("documents") or [])})


def template_replace(*, user, template: PanelTemplate, data: dict) -> PanelTemplate:
    _ensure_editable(user, template)
    for name, value in _template_values(data).items():
        setattr(template, name, value)
    template.save()
    return template


def template_delete(*, user, template: PanelTemplate) -> None:
    _ensure_editable(user, template)
    template.delete()


def template_favourite_set(*, user, template: PanelTemplate, favourite: bool) -> PanelTemplate:
    """Mark or unmark the template as one of the user's favourites (idempotent)."""
    with transaction.atomic():
        if favourite:
            template.favourite_of.add(user)
        else:
            template.favourite_of.remove(user)
    template.is_favourite = favourite
    return template


def template_question(template: PanelTemplate, values: dict) -> str:
    """The template's question with its placeholders filled from `values`."""
    names = template_placeholders(template.question_template)
    missing = [name for name in names if not str(values.get(name) or "").strip()]
    if missing:
        raise _refuse("values", f"Fill in the question template's {', '.join('{' + n + '}' for n in missing)}, "
                      "or give your own question.", missing=missing)
    return template.question_template.format_map({name: str(values[name]).strip() for name in names})


def template_apply(template: PanelTemplate, overrides: dict) -> dict:
    """The panel_create arguments of a template (query, panel_type, experts, max_rounds,
    documents) with the user's overrides on top. The question is the user's `query`, or the
    question template filled from `overrides["values"]`. A template whose experts cannot
    be seated any more is refused (409, with replacements) unless `experts` are given."""
    arguments = {"panel_type": template.panel_type, "experts": list(template.experts) or None,
                 "max_rounds": template.max_rounds, "documents": list(template.documents) or None}
    arguments.update({name: overrides[name] for name in PANEL_ARGUMENTS[1:] if overrides.get(name) is not None})
    query = (overrides.get("query") or "").strip()
    if not query:
        if not template.question_template:
            raise _refuse("query", f"The template {template.name!r} has no question template; give your question.")
        query = template_question(template, overrides.get("values") or {})
    if overrides.get("experts") is None and template.experts:
        availability = template_availability(template=template)
        if availability.unavailable:
            listed = "; ".join(f"{e.slug} ({UNAVAILABLE_REASONS[e.reason]})" for e in availability.unavailable)
            raise TemplateExpertsUnavailable(
                f"Some of the template's experts cannot take part any more: {listed}. Choose the experts yourself "
                "(`experts`), for instance with the proposed replacements, or update the template.",
                details={"template_id": template.pk,
                         "unavailable": [{"slug": e.slug, "reason": e.reason} for e in availability.unavailable],
                         "replacements": [{"slug": r.agent.slug, "name": r.agent.name, "score": round(r.score, 4)}
                                          for r in availability.replacements]})
    return {"query": query, **arguments}
