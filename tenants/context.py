"""Which tenant is active, and a clear refusal when tenant-side code runs without one."""

from django.db import connection

from config.errors import DomainError


class TenantContextMissing(DomainError):
    """Tenant-side code ran in the public schema (no host, no --tenant, no task schema)."""

    code = "tenant_context_missing"
    status_code = 400


class TenantMismatch(DomainError):
    """An object of one tenant was about to be changed while another tenant is active."""

    code = "tenant_mismatch"
    status_code = 403


def current_tenant():
    """The active tenant, or TenantContextMissing when only the public schema is active."""
    tenant = getattr(connection, "tenant", None)
    if tenant is None or connection.schema_name == "public":
        raise TenantContextMissing(
            "This needs a tenant, but none is active: call it on a tenant's host, with "
            "X-Tenant-ID, with --tenant <schema>, or from a task enqueued inside a tenant."
        )
    if not hasattr(tenant, "configuration"):
        # schema_context() activates a stand-in that knows only the schema name.
        from tenants.models import Tenant

        tenant = Tenant.objects.get(schema_name=connection.schema_name)
        connection.set_tenant(tenant)
    return tenant


def current_schema() -> str:
    return current_tenant().schema_name
