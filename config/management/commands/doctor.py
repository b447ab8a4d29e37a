from django.core.management.base import BaseCommand

from config import health


class Command(BaseCommand):
    help = "Check the database, pgvector, Redis, the worker (and later parts) and print a status table."

    def handle(self, *args, **options):
        checks = [check() for check in health.DOCTOR_CHECKS]
        width = max(len(check.name) for check in checks)
        self.stdout.write(f"{'part':<{width}}  status  {'ms':>7}  detail")
        for check in checks:
            status = self.style.SUCCESS("ok    ") if check.ok else self.style.ERROR("FAIL  ")
            self.stdout.write(f"{check.name:<{width}}  {status}  {check.seconds * 1000:7.1f}  {check.detail}")
        failed = [check for check in checks if not check.ok]
        if failed:
            for check in failed:
                self.stderr.write(f"{check.name} is not working: {check.detail}")
            raise SystemExit(1)
