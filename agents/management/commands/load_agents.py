from django.core.management.base import BaseCommand, CommandError

from agents.catalog.loader import CatalogError
from agents.services import agents_load


class Command(BaseCommand):
    help = "Load agents/catalog/*.yaml into the shared catalog (public schema). Idempotent."

    def handle(self, *args, **options):
        try:
            report = agents_load()
        except CatalogError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS(f"Agent catalog: {report.summary()}."))
        for slug in report.retired:
            self.stdout.write(f"  retired {slug} (kept for panels that used it)")
