"""Reads of the tenant registry (public schema).

Routing looks a tenant up on every request, so hostname -> tenant answers are kept in
Redis (the `routing` cache: shared by every process, never in process memory) for
ROUTING_CACHE_SECONDS. Every write that changes what routing sees goes through
tenants/services.py, which forgets the cached answers at once; the short expiry bounds
anything written around it.

A cached answer holds only the fields in ROUTING_FIELDS, never a secret: the tenant's LLM
key (and any field not listed) is left out, and the tenant routing hands on loads it
from the database the first time it is read (a deferred field, as with `.only()`).
"""

from django.core.cache import caches

from tenants.models import Domain, Tenant

ROUTING_CACHE_SECONDS = 30
# What routing and readers of request.tenant use: its schema, status and reason, its
# configuration, and the timestamps a save() of it writes.
ROUTING_FIELDS = frozenset({
    "id", "schema_name", "name", "status", "status_reason", "tier",
    "features", "limits", "branding", "panel_defaults", "llm", "created_at", "updated_at",
})
_MISSING = "missing"
# Model.from_db takes the values of a partial row in the model's field order.
_FIELD_ORDER = [field.attname for field in Tenant._meta.concrete_fields]


def _routing_key(kind: str, value: str) -> str:
    return f"routing:{kind}:{value}"


def _cached(kind: str, value: str, load) -> Tenant | None:
    cache = caches["routing"]
    key = _routing_key(kind, value)
    found = cache.get(key)
    if found is None:
        tenant = load()
        found = {name: getattr(tenant, name) for name in ROUTING_FIELDS} if tenant else _MISSING
        cache.set(key, found, ROUTING_CACHE_SECONDS)
    if found == _MISSING:
        return None
    names = [name for name in _FIELD_ORDER if name in ROUTING_FIELDS and name in found]
    return Tenant.from_db("default", names, [found[name] for name in names])


def tenant_for_hostname(hostname: str) -> Tenant | None:
    hostname = hostname.lower()

    def load():
        domain = Domain.objects.select_related("tenant").filter(domain=hostname).first()
        return domain.tenant if domain else None

    return _cached("host", hostname, load)


def tenant_for_schema(schema_name: str) -> Tenant | None:
    return _cached(
        "schema", schema_name,
        lambda: Tenant.objects.exclude(schema_name="public").filter(schema_name=schema_name).first(),
    )


def tenant_routing_forget(tenant: Tenant, *, domains: list[str] | None = None) -> None:
    """Drop cached routing answers for a tenant (after any change to it or its domains)."""
    names = set(domains or []) | set(Domain.objects.filter(tenant=tenant).values_list("domain", flat=True))
    caches["routing"].delete_many(
        [_routing_key("host", name) for name in names] + [_routing_key("schema", tenant.schema_name)]
    )


def tenant_primary_domain(tenant: Tenant) -> str | None:
    domain = tenant.domains.filter(is_primary=True).first() or tenant.domains.first()
    return domain.domain if domain else None


def routing_cache_clear() -> int:
    """Forget every cached routing answer (tests; after bulk edits outside the services)."""
    cache = caches["routing"]
    client = cache._cache.get_client(write=True)
    keys = list(client.scan_iter(match=f"{cache.key_prefix}:*", count=1000))
    return client.delete(*keys) if keys else 0


def tenant_users() -> list:
    """The active tenant's users, by name (its schema holds only its own)."""
    from django.contrib.auth import get_user_model

    return list(get_user_model().objects.order_by("username"))


def token_get(*, user):
    """The user's API token in the active tenant, or None."""
    from rest_framework.authtoken.models import Token

    return Token.objects.filter(user=user).first()
