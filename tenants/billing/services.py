"""Writes of usage and billing: the ledger (append-only, idempotent), prices, plan changes."""

from __future__ import annotations

import logging
from dataclasses import asdict
from decimal import Decimal
from pathlib import Path

import yaml
from django.db import connection, transaction
from django.utils import timezone

from config.errors import DomainError
from tenants.audit.models import AuditEvent
from tenants.audit.services import audit_record, changes_between
from tenants.billing.models import PlanChange, Price, UsageEvent

logger = logging.getLogger(__name__)

PRICES_FILE = Path(__file__).resolve().parent / "prices.yaml"


class InvalidPrices(DomainError):
    code = "invalid_prices"


def usage_record(*, tenant, kind: str, key: str, occurred_at=None, **fields) -> bool:
    """Append one event to the ledger, in the caller's transaction; False (and nothing
    written) when an event with this key was counted before. One statement:
    INSERT ... ON CONFLICT (key) DO NOTHING RETURNING id."""
    event = UsageEvent(tenant=tenant, kind=kind, key=key, occurred_at=occurred_at or timezone.now(), **fields)
    columns = [field for field in UsageEvent._meta.concrete_fields if not field.primary_key]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {UsageEvent._meta.db_table} ({', '.join(field.column for field in columns)}) "
            f"VALUES ({', '.join(['%s'] * len(columns))}) ON CONFLICT (key) DO NOTHING RETURNING id",
            [field.get_db_prep_save(getattr(event, field.attname), connection) for field in columns])
        return cursor.fetchone() is not None


def usage_record_many(events: list[UsageEvent]) -> None:
    """Append events; a key already counted is skipped (ON CONFLICT (key) DO NOTHING)."""
    UsageEvent.objects.bulk_create(events, ignore_conflicts=True)


def billed_directly(tenant) -> bool:
    """Calls on the tenant's own key marked "billed to the tenant directly": counted, and
    charged nothing by the platform."""
    return bool(tenant.configuration.llm.billed_directly and tenant.llm_api_key)


def charge(*, tenant, cost: Decimal) -> Decimal:
    """What the platform charges for a call at list `cost`."""
    return Decimal(0) if billed_directly(tenant) else cost


def prices_load(path: Path = PRICES_FILE) -> dict:
    """Make the price table match the YAML file (created, updated; rows not in the file are
    kept: an admin may have added them). All checked first, then written at once."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise InvalidPrices(f"{path.name}: cannot be read ({exc}).") from exc
    rows = []
    for provider, models in (document.get("prices") or {}).items():
        for model, pair in (models or {}).items():
            try:
                given, taken = (Decimal(str(value)) for value in pair)
                if given < 0 or taken < 0:
                    raise ValueError
            except (TypeError, ValueError, ArithmeticError) as exc:
                raise InvalidPrices(f"{path.name}: prices.{provider}.{model} must be [input, output] USD per "
                                    f"million tokens, two numbers >= 0; got {pair!r}.") from exc
            rows.append((str(provider), str(model), given, taken))
    report = {"created": 0, "updated": 0, "unchanged": 0}
    with transaction.atomic():
        for provider, model, given, taken in rows:
            price, created = Price.objects.get_or_create(
                provider=provider, model=model, defaults={"input_per_million": given, "output_per_million": taken})
            if created:
                report["created"] += 1
            elif (price.input_per_million, price.output_per_million) != (given, taken):
                price.input_per_million, price.output_per_million = given, taken
                price.save(update_fields=["input_per_million", "output_per_million", "updated_at"])
                report["updated"] += 1
            else:
                report["unchanged"] += 1
    return report


def plan_change_record(*, tenant, by, before: dict, after: dict) -> PlanChange | None:
    """Audit a plan change (tier, features, limits) by `by` (a platform admin, or None for
    the system): the whole plan before and after here, what changed in the tenant's audit
    trail; nothing when nothing changed."""
    if before == after:
        return None
    audit_record(tenant=tenant, action=AuditEvent.Action.PLAN_CHANGED, actor=by, target_kind="tenant",
                 target_id=tenant.pk, target_label=tenant.name, changes=changes_between(before, after))
    return PlanChange.objects.create(tenant=tenant, changed_by=by, before=before, after=after)


def plan_of(tenant) -> dict:
    """What a plan change is judged on: the tier and the effective features and limits."""
    configuration = tenant.configuration
    return {"tier": tenant.tier, "features": asdict(configuration.features), "limits": asdict(configuration.limits)}
