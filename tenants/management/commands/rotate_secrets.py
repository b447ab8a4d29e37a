from django.core.management.base import BaseCommand
from django.db import connection, transaction

from tenants.secrets import rotate


class Command(BaseCommand):
    help = ("Re-encrypt every tenant's LLM key with the first of LLM_KEY_ENCRYPTION_KEYS (run after putting a new "
            "key first; then the old keys can be dropped).")

    def handle(self, *args, **options):
        rotated = 0
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT id, llm_api_key FROM public.tenants_tenant WHERE llm_api_key <> '' FOR UPDATE")
            for tenant_id, token in cursor.fetchall():
                cursor.execute("UPDATE public.tenants_tenant SET llm_api_key = %s WHERE id = %s",
                               [rotate(token), tenant_id])
                rotated += 1
        self.stdout.write(f"re-encrypted the LLM keys of {rotated} tenant(s) with the first key")
