"""Roles inside a tenant, decided here for every write (and every admin-only read).

- **admin** (a tenant admin: `is_staff` in the tenant's own schema): manages everything in
  the tenant — its users, settings, documents, panels, templates, private experts,
  preferences, usage and statements.
- **member**: manages what they created (their panels, the documents they uploaded, their
  templates) and reads what the tenant shares.

Services and views ask these functions; tests/tenants/test_roles.py fails when app code
decides on `is_staff` anywhere else.
"""

from __future__ import annotations

from config.errors import Forbidden

ADMIN, MEMBER = "admin", "member"


def role_of(user) -> str:
    return ADMIN if is_tenant_admin(user) else MEMBER


def is_tenant_admin(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_staff)


def can_manage(user, *, owner_id: int | None) -> bool:
    """Tenant admins manage everything; members what they created."""
    return is_tenant_admin(user) or (owner_id is not None and owner_id == getattr(user, "pk", None))


def require_admin(user, action: str) -> None:
    """Forbidden (403) unless the user is a tenant admin; `action` completes "Only a tenant admin can …"."""
    if not is_tenant_admin(user):
        raise Forbidden(f"Only a tenant admin can {action}.", code="admin_only")


def require_manage(user, *, owner_id: int | None, what: str) -> None:
    """Forbidden (403) unless the user created `what` or is a tenant admin."""
    if not can_manage(user, owner_id=owner_id):
        raise Forbidden(f"{what[:1].upper()}{what[1:]} was created by someone else; only they or a tenant admin "
                        "can change it.", code="not_yours")
