"""Tenant provisioning: seconds per tenant, drift (last-10 vs first-10), and the time of
`migrate_schemas` with nothing pending across all of them.

    python bench/provisioning.py [--n 100] [--keep] [--plain]

--plain measures the stock path for comparison: django-tenants' own create_schema (the
real migrations) and Django's migrate command, without tenants/schemas.py.

Goals (issues 2 and 12): median <= 0.3 s per tenant, last-10/first-10 <= 1.2, no-op migrate of
300 tenants <= 30 s. Prints figures; asserts nothing.
"""

import argparse
import time

import _django


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=100)
    parser.add_argument("--keep", action="store_true", help="do not drop the tenants afterwards")
    parser.add_argument("--plain", action="store_true", help="no replay and no skip (the stock path)")
    args = parser.parse_args()
    _django.setup()
    if args.plain:
        from django.conf import settings
        from django_tenants.models import TenantMixin

        from tenants.models import Tenant

        Tenant.create_schema = TenantMixin.create_schema
        settings.TENANT_BASE_MIGRATE_COMMAND = "django.core.management.commands.migrate.Command"

    from django.core.management import call_command
    from tenants.models import Tenant
    from tenants.services import tenant_create

    for leftover in Tenant.objects.filter(schema_name__startswith="bench_t"):
        leftover.delete(force_drop=True)

    seconds = []
    for index in range(args.n):
        started = time.perf_counter()
        tenant_create(name=f"Bench {index}", schema_name=f"bench_t{index:05d}", domain=f"bench-t{index}.localhost")
        seconds.append(time.perf_counter() - started)

    first, last = seconds[:10], seconds[-10:]
    print(f"tenants created:               {args.n}{' (plain migrations)' if args.plain else ''}")
    print(f"median seconds per tenant:     {_django.median(seconds):.3f}  (goal <= 0.3)")
    print(f"p95 seconds per tenant:        {_django.percentile(seconds, 0.95):.3f}")
    print(f"last-10 / first-10 ratio:      {_django.median(last) / _django.median(first):.2f}  (goal <= 1.2)")

    total = Tenant.objects.exclude(schema_name="public").count()
    started = time.perf_counter()
    call_command("migrate_schemas", verbosity=0)
    noop = time.perf_counter() - started
    print(f"no-op migrate_schemas:         {noop:.1f} s across {total} tenant schemas "
          f"({noop / max(total, 1) * 1000:.0f} ms each; goal <= 30 s for 300)")

    if not args.keep:
        for tenant in Tenant.objects.filter(schema_name__startswith="bench_t"):
            tenant.delete(force_drop=True)


if __name__ == "__main__":
    main()
