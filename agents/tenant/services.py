"""Writes of the tenant side of agents."""

from __future__ import annotations

import re

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from agents.domains import DISPOSITIONS, DOMAINS
from agents.models import Agent
from agents.tenant.models import AgentPreferences, AgentUsage, CustomAgent
from config.errors import DomainError, Forbidden, LimitExceeded
from llm.embeddings import get_embedder
from tenants.context import current_tenant
from tenants.roles import require_admin


class InvalidPreferences(DomainError):
    code = "invalid_preferences"


def preferences_set(*, preferred: dict, disabled: list) -> AgentPreferences:
    """Replace the tenant's preferred (per domain) and disabled agents, all checked first."""
    current_tenant()
    if not isinstance(preferred, dict):
        raise InvalidPreferences("`preferred` must be an object of domain -> list of agent slugs.")
    if not isinstance(disabled, list) or not all(isinstance(slug, str) for slug in disabled):
        raise InvalidPreferences("`disabled` must be a list of agent slugs.")
    named = set(disabled)
    for domain, slugs in preferred.items():
        if domain not in DOMAINS:
            raise InvalidPreferences(
                f"{domain!r} is not a domain; known domains: {', '.join(DOMAINS)}.", details={"domain": domain})
        if not isinstance(slugs, list) or not all(isinstance(slug, str) for slug in slugs):
            raise InvalidPreferences(f"preferred.{domain} must be a list of agent slugs.")
        named |= set(slugs)
    known = dict(Agent.objects.filter(slug__in=named, is_active=True).values_list("slug", "domain"))
    known.update(CustomAgent.objects.filter(slug__in=named).values_list("slug", "domain"))
    unknown = sorted(named - set(known))
    if unknown:
        raise InvalidPreferences(f"Unknown or retired agent(s): {', '.join(unknown)}.", details={"unknown": unknown})
    for domain, slugs in preferred.items():
        elsewhere = [slug for slug in slugs if known[slug] != domain]
        if elsewhere:
            raise InvalidPreferences(
                f"{', '.join(elsewhere)} {'is' if len(elsewhere) == 1 else 'are'} not in the {domain} domain.",
                details={"domain": domain, "slugs": elsewhere})
    both = sorted(set(disabled) & {slug for slugs in preferred.values() for slug in slugs})
    if both:
        raise InvalidPreferences(f"An agent cannot be both preferred and disabled: {', '.join(both)}.")
    with transaction.atomic():  # one row per tenant, even with two admins saving at once
        preferences, _ = AgentPreferences.objects.select_for_update().get_or_create(pk=1)
        preferences.preferred = {domain: list(dict.fromkeys(slugs)) for domain, slugs in preferred.items() if slugs}
        preferences.disabled = sorted(set(disabled))
        preferences.save()
    return preferences


PREFERENCE_MARKS = ("preferred", "none", "disabled")


def preference_mark_set(*, user, agent: Agent, mark: str) -> AgentPreferences:
    """Set one expert's mark (preferred, none or disabled), keeping every other mark.

    Tenant admins only. The row stays locked from read to write, so two admins marking
    different experts at once both count; experts retired since they were marked drop out."""
    require_admin(user, "change the organisation's expert preferences")
    if mark not in PREFERENCE_MARKS:
        raise InvalidPreferences(f"{mark!r} is not a mark. Choose one of: {', '.join(PREFERENCE_MARKS)}.")
    with transaction.atomic():
        preferences, _ = AgentPreferences.objects.select_for_update().get_or_create(pk=1)
        named = set(preferences.disabled) | preferences.preferred_slugs
        active = set(Agent.objects.filter(slug__in=named, is_active=True).values_list("slug", flat=True))
        active |= set(CustomAgent.objects.filter(slug__in=named).values_list("slug", flat=True))
        kept = active - {agent.slug}
        preferred = {domain: [slug for slug in slugs if slug in kept] for domain, slugs in preferences.preferred.items()}
        disabled = [slug for slug in preferences.disabled if slug in kept]
        if mark == "preferred":
            preferred.setdefault(agent.domain, []).append(agent.slug)
        elif mark == "disabled":
            disabled.append(agent.slug)
        return preferences_set(preferred=preferred, disabled=disabled)


def agent_usage_record(*, agents) -> None:
    """Count one more use of each agent (a panel that ran with them); a private expert
    keeps its own count."""
    current_tenant()
    now = timezone.now()
    agents = list(agents)
    private_ids = sorted({agent.pk for agent in agents if agent.private})
    if private_ids:
        CustomAgent.objects.filter(pk__in=private_ids).update(use_count=F("use_count") + 1)
    agent_ids = sorted({agent.pk for agent in agents if not agent.private})
    if not agent_ids:
        return
    table = AgentUsage._meta.db_table
    with connection.cursor() as cursor:  # one upsert for all: concurrent panels never lose a count
        cursor.execute(
            f"""INSERT INTO {table} (agent_id, use_count, rating_count, avg_rating, last_used_at)
                SELECT agent_id, 1, 0, 0.0, %s FROM unnest(%s::bigint[]) AS agent_id
                ON CONFLICT (agent_id) DO UPDATE
                SET use_count = {table}.use_count + 1, last_used_at = EXCLUDED.last_used_at""",
            [now, agent_ids],
        )


def agent_rating_record(*, agents, score: float) -> None:
    """Fold a 1-5 rating into each agent's running average (a private expert keeps its own)."""
    current_tenant()
    with transaction.atomic():
        for agent in agents:
            if agent.private:
                usage = CustomAgent.objects.select_for_update().filter(pk=agent.pk).first()
                if usage is None:
                    continue
            else:
                usage, _ = AgentUsage.objects.select_for_update().get_or_create(agent=agent)
            usage.avg_rating = (usage.avg_rating * usage.rating_count + score) / (usage.rating_count + 1)
            usage.rating_count += 1
            usage.save(update_fields=["avg_rating", "rating_count"])


# --- private experts (plans with `custom_agents`) --------------------------------------

class InvalidCustomAgent(DomainError):
    code = "invalid_custom_agent"


SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
TEXT_LIMITS = {"name": 200, "title": 300, "business_function": 200, "system_prompt": 8000}
LIST_LIMITS = {"capabilities": (1, 20), "knowledge_domains": (0, 20), "key_considerations": (0, 20)}
ITEM_MAX = 500


def custom_agents_allowed(tenant) -> None:
    """403 with the reason when the tenant's plan has no private experts."""
    if not tenant.configuration.features.custom_agents:
        raise Forbidden(f"Private experts are not included in your plan ({tenant.tier}); they are available on "
                        "enterprise.", code="feature_not_in_plan", details={"feature": "custom_agents"})


def custom_agent_create(*, user, data: dict) -> CustomAgent:
    """A tenant admin creates a private expert: every field checked first, then embedded."""
    tenant = _custom_agent_writer(user)
    values = _custom_agent_values(data, creating=True)
    with transaction.atomic():
        with connection.cursor() as cursor:  # one creation at a time: the count limit holds
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"custom-agents:{tenant.schema_name}"])
        limit = tenant.configuration.limits.max_custom_agents
        count = CustomAgent.objects.count()
        if count >= limit:
            raise LimitExceeded(f"Your plan allows {limit} private experts and you have {count}; delete one first.",
                                details={"limit": "max_custom_agents", "value": limit, "used": count})
        if CustomAgent.objects.filter(slug=values["slug"]).exists():
            raise InvalidCustomAgent(f"You already have a private expert {values['slug']!r}; choose another slug.",
                                     details={"field": "slug"})
        agent = CustomAgent(**values, created_by=user)
        agent.embedding = _profile_embedding(agent)
        agent.save()
    return agent


def custom_agent_update(*, user, agent: CustomAgent, data: dict) -> CustomAgent:
    """Replace a private expert's profile (its slug stays); the next ranking sees it."""
    _custom_agent_writer(user)
    if not isinstance(data, dict):
        raise InvalidCustomAgent("Send a JSON object with the expert's fields.")
    values = _custom_agent_values({**data, "slug": agent.slug}, creating=False)
    for name, value in values.items():
        setattr(agent, name, value)
    agent.embedding = _profile_embedding(agent)
    agent.save()
    return agent


def custom_agent_delete(*, user, agent: CustomAgent) -> None:
    """Delete a private expert. Panels that seated it keep its name and role (their members
    hold a copy); it leaves the organisation's preferences."""
    _custom_agent_writer(user)
    with transaction.atomic():
        preferences = AgentPreferences.objects.select_for_update().filter(pk=1).first()
        if preferences is not None:
            preferences.preferred = {domain: [s for s in slugs if s != agent.slug]
                                     for domain, slugs in preferences.preferred.items()}
            preferences.disabled = [s for s in preferences.disabled if s != agent.slug]
            preferences.save()
        agent.delete()


def _custom_agent_writer(user):
    tenant = current_tenant()
    custom_agents_allowed(tenant)
    require_admin(user, "create, change or delete private experts")
    return tenant


def _custom_agent_values(data: dict, *, creating: bool) -> dict:
    """The checked fields of a private expert, or InvalidCustomAgent naming the field."""
    if not isinstance(data, dict):
        raise InvalidCustomAgent("Send a JSON object with the expert's fields.")
    slug = data.get("slug")
    if not isinstance(slug, str) or not SLUG.match(slug) or len(slug) > 100:
        raise InvalidCustomAgent("`slug` must be lowercase words joined by hyphens (at most 100 characters), "
                                 "e.g. `our-cmc-lead`.", details={"field": "slug"})
    if creating and Agent.objects.filter(slug=slug).exists():
        raise InvalidCustomAgent(f"{slug!r} is the slug of a catalog expert; choose another.",
                                 details={"field": "slug"})
    values = {"slug": slug}
    for name, limit in TEXT_LIMITS.items():
        value = data.get(name)
        if not isinstance(value, str) or not value.strip() or len(value.strip()) > limit:
            raise InvalidCustomAgent(f"`{name}` must be text of 1 to {limit} characters.", details={"field": name})
        values[name] = value.strip()
    domain = data.get("domain")
    if not isinstance(domain, str) or domain not in DOMAINS:
        raise InvalidCustomAgent(f"`domain` must be one of the catalog's domains: {', '.join(DOMAINS)}.",
                                 details={"field": "domain"})
    values["domain"] = domain
    disposition = data.get("disposition", "balanced")
    if disposition not in DISPOSITIONS:
        raise InvalidCustomAgent(f"`disposition` must be one of {', '.join(DISPOSITIONS)}.",
                                 details={"field": "disposition"})
    values["disposition"] = disposition
    for name, (low, high) in LIST_LIMITS.items():
        items = data.get(name, [])
        if (not isinstance(items, list) or not low <= len(items) <= high
                or not all(isinstance(i, str) and i.strip() and len(i) <= ITEM_MAX for i in items)):
            raise InvalidCustomAgent(f"`{name}` must be a list of {low} to {high} texts of at most {ITEM_MAX} "
                                     "characters.", details={"field": name})
        values[name] = [item.strip() for item in items]
    return values


def _profile_embedding(agent: CustomAgent) -> list[float]:
    """The vector ranking compares questions with, made as the catalog's are."""
    text = ". ".join([agent.title, agent.domain_label, *agent.capabilities, *agent.knowledge_domains])
    return get_embedder().embed([text])[0].tolist()
