"""Reads of the tenant registry (public schema).

Routing looks a tenant up on every request, so hostname -> tenant answers are kept in
Redis (the `routing` cache: shared by every process, never in process memory) for ROUTING_CACHE_SECONDS.
Every write that changes what routing sees goes through tenants/services.py, which
forgets the cached answers at once; the short expiry bounds anything written around it.

The WSGI handler sends a request's routing reads as soon as the request arrives
(`routing_prefetch`), and the routing middleware takes the replies from there.
"""

import hashlib

from django.core.cache import caches
from django_tenants.utils import remove_www
from redis.exceptions import RedisError

from tenants.models import SCHEMA_NAME, Domain, Tenant

ROUTING_CACHE_SECONDS = 30
ROUTING_PREFETCH = "askpanel.routing_prefetch"  # the WSGI environ key of a request's pending reads
_MISSING = "missing"


# A cached answer is the tenant row's values, rebuilt with from_db: unpickling a model
# instance cost ~0.1 ms more per request (bench/routing.py: ratio ~1.09 -> ~1.05). The
# key names the fields, so values cached by code with other fields are never misread.
_FIELDS = [field.attname for field in Tenant._meta.concrete_fields]


def _layout_version(fields: list[str]) -> str:
    return hashlib.sha1(",".join(fields).encode()).hexdigest()[:8]


_LAYOUT = _layout_version(_FIELDS)


def _routing_key(kind: str, value: str) -> str:
    return f"routing:{_LAYOUT}:{kind}:{value}"


def _cached(kind: str, value: str, load, prefetched=None):
    cache = caches["routing"]
    key = _routing_key(kind, value)
    if prefetched is not None and key in prefetched.keys:
        found = prefetched.values().get(key)
    else:
        found = cache.get(key)
    if found is None:
        tenant = load()
        found = tuple(getattr(tenant, name) for name in _FIELDS) if tenant else _MISSING
        cache.set(key, found, ROUTING_CACHE_SECONDS)
    return None if found == _MISSING else Tenant.from_db("default", _FIELDS, found)


def tenant_for_hostname(hostname: str, *, prefetched=None) -> Tenant | None:
    hostname = hostname.lower()

    def load():
        domain = Domain.objects.select_related("tenant").filter(domain=hostname).first()
        return domain.tenant if domain else None

    return _cached("host", hostname, load, prefetched)


def tenant_for_schema(schema_name: str, *, prefetched=None) -> Tenant | None:
    return _cached(
        "schema", schema_name,
        lambda: Tenant.objects.exclude(schema_name="public").filter(schema_name=schema_name).first(),
        prefetched,
    )


def routing_prefetch(environ: dict):
    """Send the routing reads a request will need, before Django has built the request.

    The keys are guessed from the raw Host and X-Tenant-ID headers the way routing will
    derive them. The guess only decides what is read early: routing validates the host
    itself and uses a prefetched answer only under the very key it would have read, so
    a wrong guess costs a wasted read, never a wrong tenant. Returns the pending reads
    (close them when the request is done), or None when there is nothing worth sending
    or Redis cannot be reached now (routing will then ask, and report, on its own).
    """
    host = environ.get("HTTP_HOST")
    if not host or len(host) > 255:
        return None
    keys = [_routing_key("host", remove_www(host.split(":")[0]).lower())]
    header = environ.get("HTTP_X_TENANT_ID")
    if header and SCHEMA_NAME.match(header.strip()):
        keys.append(_routing_key("schema", header.strip()))
    try:
        return caches["routing"].get_soon(keys)
    except (RedisError, OSError):
        return None


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
