"""Writes to the tenant registry: provisioning, status changes, cache clearing."""

from __future__ import annotations

import logging

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django_tenants.utils import schema_context

from config.errors import Conflict, DomainError
from tenants.models import Domain, Tenant
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
) -> Tenant:
    """Create the tenant, its schema (migrated) and its primary domain."""
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
        tenant_routing_forget(tenant, domains=[domain])
    except Exception:
        # Nothing half-made: drop what was created, then re-raise.
        if tenant.pk:
            tenant.delete(force_drop=True)
        raise
    logger.info("created tenant %s at %s", schema_name, domain)
    return tenant


def tenant_update_configuration(*, tenant: Tenant, **sections: dict) -> Tenant:
    for section, value in sections.items():
        setattr(tenant, section, value)
    _validated(tenant).save()
    tenant_routing_forget(tenant)
    return tenant


def tenant_set_status(*, tenant: Tenant, status: str, reason: str = "") -> Tenant:
    if status not in Tenant.Status.values:
        raise ProvisioningError(f"{status!r} is not a tenant status; choose one of {', '.join(Tenant.Status.values)}.")
    tenant.status = status
    tenant.status_reason = reason
    tenant.save(update_fields=["status", "status_reason", "updated_at"])
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
        user, _ = get_user_model().objects.get_or_create(username=username, defaults={"email": email})
        user.is_staff = is_admin
        user.is_superuser = is_admin
        if email:
            user.email = email
        user.set_password(password)
        user.save()
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
