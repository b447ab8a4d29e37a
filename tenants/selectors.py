"""Reads of the tenant registry (public schema)."""

from tenants.models import Domain, Tenant


def tenant_for_hostname(hostname: str) -> Tenant | None:
    domain = Domain.objects.select_related("tenant").filter(domain=hostname.lower()).first()
    return domain.tenant if domain else None


def tenant_for_schema(schema_name: str) -> Tenant | None:
    return Tenant.objects.exclude(schema_name="public").filter(schema_name=schema_name).first()


def tenant_primary_domain(tenant: Tenant) -> str | None:
    domain = tenant.domains.filter(is_primary=True).first() or tenant.domains.first()
    return domain.domain if domain else None
