import json

from django.core.management.base import BaseCommand, CommandError

from config.errors import DomainError
from tenants.services import tenant_create, tenant_user_ensure


class Command(BaseCommand):
    help = "Create a tenant (schema, domain, tier) with an admin user."

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True)
        parser.add_argument("--schema", required=True, help="lowercase letters, digits, underscore")
        parser.add_argument("--domain", required=True, help="e.g. acme.localhost")
        parser.add_argument("--tier", default="starter", choices=["starter", "professional", "enterprise"])
        parser.add_argument("--admin-username", default="admin")
        parser.add_argument("--admin-password", required=True)
        parser.add_argument("--admin-email", default="")
        parser.add_argument("--branding", default="{}", help='JSON, e.g. {"primary_color": "#0b5d8c"}')

    def handle(self, *args, **options):
        try:
            branding = json.loads(options["branding"])
        except json.JSONDecodeError as exc:
            raise CommandError(f"--branding is not valid JSON: {exc}") from exc
        try:
            tenant = tenant_create(
                name=options["name"],
                schema_name=options["schema"],
                domain=options["domain"],
                tier=options["tier"],
                branding=branding,
            )
            tenant_user_ensure(
                tenant=tenant,
                username=options["admin_username"],
                password=options["admin_password"],
                email=options["admin_email"],
                is_admin=True,
            )
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(self.style.SUCCESS(f"Created tenant {tenant.schema_name} at http://{options['domain']}/"))
