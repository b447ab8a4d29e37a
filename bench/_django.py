"""Set-up shared by the benchmarks: Django on its own data directory (`.data/bench`), so
a benchmark never touches the data of `make run` or the tests."""

import os
import statistics
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
os.environ.setdefault("ASKPANEL_DATA_DIR", str(BASE_DIR / ".data" / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")


def setup() -> None:
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate_schemas", "--shared", verbosity=0)
    from django.conf import settings
    from tenants.services import public_tenant_ensure

    public_tenant_ensure(domain=settings.BASE_DOMAIN)


def percentile(values, fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def median(values) -> float:
    return statistics.median(values)


def bench_tenant(schema_name: str, *, tier: str = "starter", is_admin: bool = False, name: str | None = None):
    """A benchmark's own tenant, made on its first run, with a user `bench` and that
    user's API token: (tenant, user, token)."""
    from django_tenants.utils import schema_context
    from rest_framework.authtoken.models import Token

    from tenants.models import Tenant
    from tenants.services import tenant_create, tenant_user_ensure

    tenant = Tenant.objects.filter(schema_name=schema_name).first() or tenant_create(
        name=name or schema_name.replace("_", " ").title(), schema_name=schema_name,
        domain=schema_name.replace("_", "-") + ".localhost", tier=tier,
    )
    user = tenant_user_ensure(tenant=tenant, username="bench", password="bench-pass-1", is_admin=is_admin)
    with schema_context(schema_name):
        token = Token.objects.get_or_create(user=user)[0].key
    return tenant, user, token
