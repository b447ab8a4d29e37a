"""Writes of the audit trail. The services that change a tenant, its users, documents,
panels and tokens call audit_record in the same transaction as the change, so a change
that fails (or is rolled back) leaves no event, and one that is kept always has one."""

from __future__ import annotations

import copy
import re

from django.db import connection
from django_tenants.utils import get_public_schema_name

from tenants.audit.models import AuditEvent

Action = AuditEvent.Action

# Values of keys named like these (`llm_api_key`, `password`) never reach the trail: only
# that they changed. `monthly_token_budget` is not a secret.
SECRET_NAME = re.compile(r"(^|_)(key|password|secret|token)$")
LONG_TEXT = 200  # longer values (custom CSS, say) are cut in the trail

STATUS_ACTIONS = {"suspended": Action.TENANT_SUSPENDED, "active": Action.TENANT_ACTIVATED,
                  "inactive": Action.TENANT_DEACTIVATED}
# A tenant's own settings (its plan is audited by tenants.billing.services.plan_change_record).
SETTINGS_FIELDS = ("name", "panel_defaults", "llm", "llm_api_key")
TENANT_FIELDS = ("status", "status_reason", "branding", *SETTINGS_FIELDS)  # what tenant_change_record compares


def actor_of(user) -> tuple[str, int | None, str]:
    """(kind, id, username) of whoever acts: None (or an anonymous user) is the system; a
    user belongs to the schema the code runs in, public holding the platform admins."""
    if user is None or not getattr(user, "is_authenticated", False):
        return AuditEvent.ActorKind.SYSTEM, None, ""
    kind = (AuditEvent.ActorKind.PLATFORM_ADMIN if connection.schema_name == get_public_schema_name()
            else AuditEvent.ActorKind.TENANT_USER)
    return kind, user.pk, user.get_username()


def audit_record(*, tenant, action: str, actor, target_kind: str, target_id: int | None = None,
                 target_label: str = "", changes: dict | None = None) -> AuditEvent:
    """Append one event to `tenant`'s trail, in the caller's transaction. `actor` is the
    user who acted, or None for the system; `changes` is scrubbed of secrets."""
    actor_kind, actor_id, actor_username = actor_of(actor)
    return AuditEvent.objects.create(
        tenant=tenant, action=Action(action), actor_kind=actor_kind, actor_id=actor_id,
        actor_username=actor_username, target_kind=target_kind, target_id=target_id,
        target_label=str(target_label)[:300], changes=_scrubbed(changes or {}),
    )


def changes_between(before: dict, after: dict, *, prefix: str = "") -> dict:
    """{"field": {"from": old, "to": new}} for each value that differs; nested sections by
    dotted name (`branding.primary_color`); a secret only as "changed"."""
    changes = {}
    for key in sorted(set(before) | set(after), key=str):
        old, new = before.get(key), after.get(key)
        name = f"{prefix}{key}"
        if old == new:
            continue
        if isinstance(old, dict) and isinstance(new, dict):
            changes.update(changes_between(old, new, prefix=f"{name}."))
        elif _is_secret(name):
            changes[name] = "changed"
        else:
            changes[name] = {"from": _short(old), "to": _short(new)}
    return changes


def tenant_created_record(*, tenant, actor) -> AuditEvent:
    return audit_record(tenant=tenant, action=Action.TENANT_CREATED, actor=actor, target_kind="tenant",
                        target_id=tenant.pk, target_label=tenant.name,
                        changes={"tier": {"from": None, "to": tenant.tier}})


def tenant_fields(tenant, names=TENANT_FIELDS) -> dict:
    """A copy of the tenant's fields, to compare with after a change."""
    return {name: copy.deepcopy(getattr(tenant, name)) for name in names}


def tenant_change_record(*, tenant, actor, before: dict, after: dict) -> list[AuditEvent]:
    """Audit a change to the tenant's own fields (as tenant_fields gives them): its status,
    its branding, its other settings; one event each, none when nothing changed."""
    events = []
    target = {"target_kind": "tenant", "target_id": tenant.pk, "target_label": tenant.name}
    if "status" in after and before.get("status") != after["status"]:
        changes = changes_between({k: before.get(k) for k in ("status", "status_reason")},
                                  {k: after.get(k, before.get(k)) for k in ("status", "status_reason")})
        events.append(audit_record(tenant=tenant, action=STATUS_ACTIONS[after["status"]], actor=actor,
                                   changes=changes, **target))
    if "branding" in after:
        changes = changes_between({"branding": before.get("branding") or {}}, {"branding": after["branding"] or {}})
        if changes:
            events.append(audit_record(tenant=tenant, action=Action.BRANDING_CHANGED, actor=actor,
                                       changes=changes, **target))
    settings = [name for name in SETTINGS_FIELDS if name in after]
    changes = changes_between({name: before.get(name) for name in settings}, {name: after[name] for name in settings})
    if changes:
        events.append(audit_record(tenant=tenant, action=Action.SETTINGS_CHANGED, actor=actor,
                                   changes=changes, **target))
    return events


def _is_secret(name: str) -> bool:
    return bool(SECRET_NAME.search(name.rsplit(".", 1)[-1].lower()))


def _scrubbed(value, name: str = ""):
    """Whatever a caller passes, a secret's value is never stored."""
    if isinstance(value, dict):
        return {key: "changed" if _is_secret(f"{name}.{key}") else _scrubbed(item, f"{name}.{key}")
                for key, item in value.items()}
    if isinstance(value, list):
        return [_scrubbed(item, name) for item in value]
    return value


def _short(value):
    if isinstance(value, str) and len(value) > LONG_TEXT:
        return value[:LONG_TEXT] + "…"
    return value
