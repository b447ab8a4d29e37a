from django.conf import settings
from django.core.management.base import BaseCommand

from config.demo import DEMO_USERS, demo_seed


class Command(BaseCommand):
    help = "Create (or refresh) the demo tenants acme and globex with their users. Idempotent."

    def handle(self, *args, **options):
        seeded = demo_seed()
        password = settings.DEMO_PASSWORD
        self.stdout.write(self.style.SUCCESS("Demo tenants ready:"))
        for item in seeded:
            state = "created" if item.created else "up to date"
            users = ", ".join(name for name, _ in DEMO_USERS)
            self.stdout.write(f"  {item.tenant.name:<24} {item.url:<32} users: {users}  ({state})")
        self.stdout.write(f"  Platform admin: http://{settings.BASE_DOMAIN}:{settings.PORT}/admin/  user: admin")
        self.stdout.write(f"  Password for every demo user: {password}")
