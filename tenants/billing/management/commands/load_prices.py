from django.core.management.base import BaseCommand, CommandError

from tenants.billing.services import InvalidPrices, prices_load


class Command(BaseCommand):
    help = "Make the LLM price table match tenants/billing/prices.yaml (USD per million tokens)."

    def handle(self, *args, **options):
        try:
            report = prices_load()
        except InvalidPrices as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"prices: {report['created']} created, {report['updated']} updated, "
                          f"{report['unchanged']} unchanged")
