"""Writes to the tenant registry (provisioning, status, configuration, branding) and to a
tenant's own users and API tokens. The settings pages and the API call these."""

from __future__ import annotations

import logging

import hashlib
import re

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django_tenants.files.storage import TenantFileSystemStorage
from django_tenants.utils import schema_context
from rest_framework.authtoken.models import Token

from config.errors import Conflict, DomainError, Forbidden
from tenants.audit.models import AuditEvent
from tenants.audit.services import audit_record, tenant_change_record, tenant_created_record, tenant_fields
from tenants.billing.services import plan_change_record, plan_of
from tenants.branding import logo_validate
from tenants.configuration import (
    ConfigurationError,
    validate_branding,
    validate_panel_defaults,
)
from tenants.context import current_tenant
from tenants.models import Domain, Tenant
from tenants.roles import role_of
from tenants.selectors import tenant_routing_forget

logger = logging.getLogger(__name__)


class ProvisioningError(DomainError):
    code = "invalid_tenant"


def _validated(tenant: Tenant) -> Tenant:
    try:
        tenant.full_clean(exclude=["domain_url"])
    except ValidationError as exc:
        field, messages = next(iter(exc.message_dict.items()))
        raise ProvisioningError(f"{field}: {' '.join(messages)}", details={"field": field}) from exc
    return tenant


def public_tenant_ensure(*, domain: str) -> Tenant:
    """The public tenant owns the platform host (BASE_DOMAIN)."""
    tenant, _ = Tenant.objects.get_or_create(schema_name="public", defaults={"name": "Ask Panel platform"})
    Domain.objects.update_or_create(domain=domain, defaults={"tenant": tenant, "is_primary": True})
    tenant_routing_forget(tenant, domains=[domain])
    return tenant


def tenant_create(
    *,
    name: str,
    schema_name: str,
    domain: str,
    tier: str = "starter",
    features: dict | None = None,
    limits: dict | None = None,
    branding: dict | None = None,
    panel_defaults: dict | None = None,
    actor=None,
) -> Tenant:
    """Create the tenant, its schema (migrated) and its primary domain; `actor` is the
    platform admin who asked (None: the system, e.g. a management command)."""
    if Tenant.objects.filter(schema_name=schema_name).exists():
        raise Conflict(f"A tenant with schema {schema_name!r} already exists.")
    if Domain.objects.filter(domain=domain).exists():
        raise Conflict(f"The domain {domain!r} is already used by another tenant.")
    tenant = _validated(
        Tenant(
            name=name,
            schema_name=schema_name,
            tier=tier,
            features=features or {},
            limits=limits or {},
            branding=branding or {},
            panel_defaults=panel_defaults or {},
        )
    )
    try:
        tenant.save(verbosity=0)  # creates and migrates the schema
        Domain.objects.create(domain=domain, tenant=tenant, is_primary=True)
        tenant_created_record(tenant=tenant, actor=actor)
        tenant_routing_forget(tenant, domains=[domain])
    except Exception:
        # Nothing half-made: drop what was created, then re-raise.
        if tenant.pk:
            tenant.delete(force_drop=True)
        raise
    logger.info("created tenant %s at %s", schema_name, domain)
    return tenant


PLAN_SECTIONS = {"tier", "features", "limits"}


def tenant_update_configuration(*, tenant: Tenant, actor=None, **sections: dict) -> Tenant:
    """Set configuration sections; audited as `actor` (None: the system)."""
    before, plan_before = tenant_fields(tenant, sections), plan_of(tenant) if PLAN_SECTIONS & set(sections) else None
    for section, value in sections.items():
        setattr(tenant, section, value)
    with transaction.atomic():
        # Only these columns: the instance may come from the routing cache (up to 30 s old).
        _validated(tenant).save(update_fields=[*sections, "updated_at"])
        tenant_change_record(tenant=tenant, actor=actor, before=before, after=tenant_fields(tenant, sections))
        if plan_before is not None:
            plan_change_record(tenant=tenant, by=actor, before=plan_before, after=plan_of(tenant))
    tenant_routing_forget(tenant)
    return tenant


LOGO_NAME = re.compile(r"^logo-[0-9a-f]{16}\.(?:png|jpg|gif|webp)$")


def branding_storage() -> TenantFileSystemStorage:
    """The current tenant's files, under MEDIA_ROOT/tenants/<schema>/ (a new instance
    each time: it reads MEDIA_ROOT when used)."""
    return TenantFileSystemStorage()


def tenant_branding_set(
    *, tenant: Tenant, branding: dict, logo: UploadedFile | None = None, remove_logo: bool = False, actor=None
) -> Tenant:
    """Replace the tenant's branding overrides; an uploaded logo is validated, stored under
    MEDIA_ROOT/tenants/<schema>/branding/ and served at /branding/<name>."""
    branding = validate_branding(dict(branding))
    if remove_logo:
        branding["logo_url"] = ""
    elif logo is not None:
        extension = logo_validate(logo)
        digest = hashlib.sha256()
        for chunk in logo.chunks():
            digest.update(chunk)
        name = f"logo-{digest.hexdigest()[:16]}.{extension}"
        with schema_context(tenant.schema_name):
            storage = branding_storage()
            if not storage.exists(f"branding/{name}"):
                logo.seek(0)
                storage.save(f"branding/{name}", logo)
        branding["logo_url"] = f"/branding/{name}"
    return tenant_update_configuration(tenant=tenant, branding=branding, actor=actor)


def tenant_panel_defaults_set(*, tenant: Tenant, panel_defaults: dict, actor=None) -> Tenant:
    panel_defaults = validate_panel_defaults(dict(panel_defaults))
    enabled = tenant.configuration.features.enabled_panel_types
    if panel_defaults.get("panel_type") and panel_defaults["panel_type"] not in enabled:
        raise ConfigurationError(
            "panel_defaults.panel_type",
            f"{panel_defaults['panel_type']!r} is not in this tenant's plan; choose one of {', '.join(enabled)}.",
        )
    return tenant_update_configuration(tenant=tenant, panel_defaults=panel_defaults, actor=actor)


def tenant_set_status(*, tenant: Tenant, status: str, reason: str = "", actor=None) -> Tenant:
    if status not in Tenant.Status.values:
        raise ProvisioningError(f"{status!r} is not a tenant status; choose one of {', '.join(Tenant.Status.values)}.")
    before = tenant_fields(tenant, ("status", "status_reason"))
    tenant.status = status
    tenant.status_reason = reason
    with transaction.atomic():
        tenant.save(update_fields=["status", "status_reason", "updated_at"])
        tenant_change_record(tenant=tenant, actor=actor, before=before, after=tenant_fields(tenant, before))
    tenant_routing_forget(tenant)
    logger.info("tenant %s is now %s", tenant.schema_name, status)
    return tenant


def domain_add(*, tenant: Tenant, domain: str, is_primary: bool = False) -> Domain:
    if Domain.objects.filter(domain=domain).exclude(tenant=tenant).exists():
        raise Conflict(f"The domain {domain!r} is already used by another tenant.")
    added, _ = Domain.objects.update_or_create(domain=domain, defaults={"tenant": tenant, "is_primary": is_primary})
    tenant_routing_forget(tenant, domains=[domain])
    return added


def tenant_user_ensure(*, tenant: Tenant, username: str, password: str, is_admin: bool, email: str = ""):
    """Create or update a user inside the tenant's own schema."""
    with schema_context(tenant.schema_name), transaction.atomic():
        user, created = get_user_model().objects.get_or_create(username=username, defaults={"email": email})
        user.is_staff = is_admin
        user.is_superuser = is_admin
        if email:
            user.email = email
        user.set_password(password)
        user.save()
        if created:
            _user_audit(user, AuditEvent.Action.USER_CREATED, actor=None, role={"from": None, "to": role_of(user)})
        return user


def tenant_cache_clear(*, schema_name: str) -> int:
    """Delete every cache key of one tenant (keys are `<schema>:<prefix>:<version>:<key>`)."""
    client = cache._cache.get_client(write=True)
    deleted = 0
    batch = []
    for key in client.scan_iter(match=f"{schema_name}:*", count=500):
        batch.append(key)
        if len(batch) >= 500:
            deleted += client.delete(*batch)
            batch = []
    if batch:
        deleted += client.delete(*batch)
    return deleted


# --- A tenant's own users and tokens (run inside the tenant's schema: routing chose it) ---

ROLES = ("admin", "member")


class UserError(DomainError):
    code = "invalid_user"


def _role_check(role: str) -> None:
    if role not in ROLES:
        raise UserError(f"{role!r} is not a role; choose admin or member.", details={"field": "role"})


def _user_audit(user, action: str, *, actor, **changes) -> None:
    audit_record(tenant=current_tenant(), action=action, actor=actor, target_kind="user", target_id=user.pk,
                 target_label=user.get_username(), changes=changes)


def tenant_user_create(*, username: str, password: str, role: str = "member", email: str = "", actor=None):
    """A new user of the current tenant; an admin may open Settings and manage users."""
    _role_check(role)
    username = username.strip()
    try:
        UnicodeUsernameValidator()(username)
    except ValidationError as exc:
        raise UserError(f"username: {' '.join(exc.messages)}", details={"field": "username"}) from exc
    if not username or len(username) > 150:
        raise UserError("username: give a name of 1 to 150 characters.", details={"field": "username"})
    user_model = get_user_model()
    if user_model.objects.filter(username__iexact=username).exists():
        raise Conflict(f"username: {username!r} is already taken here; choose another.", details={"field": "username"})
    candidate = user_model(username=username, email=email)
    try:
        validate_password(password, candidate)
    except ValidationError as exc:
        raise UserError(f"password: {' '.join(exc.messages)}", details={"field": "password"}) from exc
    is_admin = role == "admin"
    with transaction.atomic():
        user = user_model.objects.create_user(username, email, password, is_staff=is_admin, is_superuser=is_admin)
        _user_audit(user, AuditEvent.Action.USER_CREATED, actor=actor, role={"from": None, "to": role})
    return user


def tenant_user_set_role(*, actor, user, role: str):
    _role_check(role)
    if user.pk == actor.pk and role != "admin":
        raise Forbidden("You cannot remove your own admin role; ask another admin to do it.")
    before = role_of(user)
    user.is_staff = user.is_superuser = role == "admin"
    with transaction.atomic():
        user.save(update_fields=["is_staff", "is_superuser"])
        if role != before:
            _user_audit(user, AuditEvent.Action.USER_ROLE_CHANGED, actor=actor, role={"from": before, "to": role})
    return user


def tenant_user_deactivate(*, actor, user):
    """The user can no longer sign in; their sessions and API token stop working."""
    if user.pk == actor.pk:
        raise Forbidden("You cannot deactivate yourself; ask another admin to do it.")
    was_active = user.is_active
    user.is_active = False
    with transaction.atomic():
        user.save(update_fields=["is_active"])
        Token.objects.filter(user=user).delete()
        if was_active:
            _user_audit(user, AuditEvent.Action.USER_DEACTIVATED, actor=actor, is_active={"from": True, "to": False})
    return user


def tenant_user_reactivate(*, user, actor=None):
    was_active = user.is_active
    user.is_active = True
    with transaction.atomic():
        user.save(update_fields=["is_active"])
        if not was_active:
            _user_audit(user, AuditEvent.Action.USER_REACTIVATED, actor=actor, is_active={"from": False, "to": True})
    return user


def _token_audit(user, action: str, **changes) -> None:
    """A user's own token: they are the actor; the key never reaches the trail."""
    audit_record(tenant=current_tenant(), action=action, actor=user, target_kind="token", target_id=user.pk,
                 target_label=user.get_username(), changes=changes)


def user_admin_change_record(*, actor, user, before) -> None:
    """What a tenant admin changed on a user in the tenant's own /admin/ site, in the trail
    as the Settings pages record it: created, role changed, deactivated or reactivated."""
    if before is None:
        _user_audit(user, AuditEvent.Action.USER_CREATED, actor=actor, role={"from": None, "to": role_of(user)})
        return
    if role_of(before) != role_of(user):
        _user_audit(user, AuditEvent.Action.USER_ROLE_CHANGED, actor=actor,
                    role={"from": role_of(before), "to": role_of(user)})
    if before.is_active != user.is_active:
        action = AuditEvent.Action.USER_REACTIVATED if user.is_active else AuditEvent.Action.USER_DEACTIVATED
        _user_audit(user, action, actor=actor, is_active={"from": before.is_active, "to": user.is_active})


def user_admin_delete_record(*, actor, user) -> None:
    """A user deleted in the tenant's /admin/ site: recorded as deactivated (they can no longer sign in)."""
    _user_audit(user, AuditEvent.Action.USER_DEACTIVATED, actor=actor, deleted=True)


def token_admin_record(*, actor, token, created: bool) -> None:
    """A token added or deleted for a user in the tenant's /admin/ site; never the key."""
    action = AuditEvent.Action.TOKEN_CREATED if created else AuditEvent.Action.TOKEN_REVOKED
    audit_record(tenant=current_tenant(), action=action, actor=actor, target_kind="token", target_id=token.user_id,
                 target_label=token.user.get_username(), changes={"in": "admin site"})


def token_create(*, user) -> str:
    """A new API token for the user (replacing any previous one); the key is returned once."""
    with transaction.atomic():
        replaced, _ = Token.objects.filter(user=user).delete()
        key = Token.objects.create(user=user).key
        _token_audit(user, AuditEvent.Action.TOKEN_CREATED, replaced=bool(replaced))
        return key


def token_obtain(*, user) -> Token:
    """The user's token, created if they have none (POST auth/token/)."""
    with transaction.atomic():
        token, created = Token.objects.get_or_create(user=user)
        if created:
            _token_audit(user, AuditEvent.Action.TOKEN_CREATED, replaced=False)
    return token


def token_revoke(*, user) -> bool:
    with transaction.atomic():
        deleted, _ = Token.objects.filter(user=user).delete()
        if deleted:
            _token_audit(user, AuditEvent.Action.TOKEN_REVOKED)
    return bool(deleted)
