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
