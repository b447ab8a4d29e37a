"""Writes of the tenant side of agents."""

from __future__ import annotations

from django.db import connection, transaction
from django.utils import timezone

from agents.domains import DOMAINS
from agents.models import Agent
from agents.tenant.models import AgentPreferences, AgentUsage
from config.errors import DomainError, Forbidden
from tenants.context import current_tenant


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
    if not user.is_staff:
        raise Forbidden("Only a tenant admin can change the organisation's expert preferences.")
    if mark not in PREFERENCE_MARKS:
        raise InvalidPreferences(f"{mark!r} is not a mark. Choose one of: {', '.join(PREFERENCE_MARKS)}.")
    with transaction.atomic():
        preferences, _ = AgentPreferences.objects.select_for_update().get_or_create(pk=1)
        named = set(preferences.disabled) | preferences.preferred_slugs
        active = set(Agent.objects.filter(slug__in=named, is_active=True).values_list("slug", flat=True))
        kept = active - {agent.slug}
        preferred = {domain: [slug for slug in slugs if slug in kept] for domain, slugs in preferences.preferred.items()}
        disabled = [slug for slug in preferences.disabled if slug in kept]
        if mark == "preferred":
            preferred.setdefault(agent.domain, []).append(agent.slug)
        elif mark == "disabled":
            disabled.append(agent.slug)
        return preferences_set(preferred=preferred, disabled=disabled)


def agent_usage_record(*, agents) -> None:
    """Count one more use of each agent (a panel that ran with them)."""
    current_tenant()
    now = timezone.now()
    agent_ids = sorted({agent.pk for agent in agents})
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
    """Fold a 1-5 rating into each agent's running average."""
    current_tenant()
    with transaction.atomic():
        for agent in agents:
            usage, _ = AgentUsage.objects.select_for_update().get_or_create(agent=agent)
            usage.avg_rating = (usage.avg_rating * usage.rating_count + score) / (usage.rating_count + 1)
            usage.rating_count += 1
            usage.save(update_fields=["avg_rating", "rating_count"])
