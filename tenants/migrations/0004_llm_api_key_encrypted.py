"""Tenants' LLM keys encrypted at rest (tenants/secrets.py)."""

from django.db import migrations

import tenants.secrets


def encrypt_existing(apps, schema_editor):
    """Keys stored before encryption are encrypted in place (idempotent: tokens are skipped)."""
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT id, llm_api_key FROM public.tenants_tenant WHERE llm_api_key <> ''")
        for tenant_id, value in cursor.fetchall():
            if not tenants.secrets.is_encrypted(value):
                cursor.execute("UPDATE public.tenants_tenant SET llm_api_key = %s WHERE id = %s",
                               [tenants.secrets.encrypt(value), tenant_id])


class Migration(migrations.Migration):

    dependencies = [
        ('tenants', '0003_tenant_llm_tenant_llm_api_key'),
    ]

    operations = [
        migrations.AlterField(
            model_name='tenant',
            name='llm_api_key',
            field=tenants.secrets.EncryptedTextField(blank=True, help_text='Encrypted at rest; never cached, logged or shown in full.'),
        ),
        migrations.RunPython(encrypt_existing, migrations.RunPython.noop),
    ]
