"""Tenants' LLM keys are encrypted at rest: the column holds a Fernet token, code sees the
key, a rotation re-encrypts with the new key, and a missing key says what to do."""

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import connection

from tenants.models import Tenant

pytestmark = pytest.mark.django_db

KEY = "sk-tenant-secret-0123456789abcdef"


def stored(tenant) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT llm_api_key FROM public.tenants_tenant WHERE id = %s", [tenant.pk])
        return cursor.fetchone()[0]


def test_the_column_never_holds_the_key(alpha):
    alpha.llm_api_key = KEY
    alpha.save(update_fields=["llm_api_key"])
    raw = stored(alpha)
    assert KEY not in raw and raw.startswith("gAAAAA")
    assert Tenant.objects.get(pk=alpha.pk).llm_api_key == KEY
    Tenant.objects.filter(pk=alpha.pk).update(llm_api_key="sk-changed-in-bulk-000000")
    assert "sk-changed" not in stored(alpha)
    assert Tenant.objects.get(pk=alpha.pk).llm_api_key == "sk-changed-in-bulk-000000"
    alpha.llm_api_key = ""
    alpha.save(update_fields=["llm_api_key"])
    assert stored(alpha) == "" and Tenant.objects.get(pk=alpha.pk).llm_api_key == ""


def test_rotation_re_encrypts_with_the_new_key_and_the_old_one_can_go(alpha, settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.LLM_KEY_ENCRYPTION_KEYS = [old]
    alpha.llm_api_key = KEY
    alpha.save(update_fields=["llm_api_key"])
    settings.LLM_KEY_ENCRYPTION_KEYS = [new, old]  # the new key first, the old one kept for reading
    assert Tenant.objects.get(pk=alpha.pk).llm_api_key == KEY
    call_command("rotate_secrets", stdout=open("/dev/null", "w"))
    settings.LLM_KEY_ENCRYPTION_KEYS = [new]  # the old key dropped
    assert Tenant.objects.get(pk=alpha.pk).llm_api_key == KEY


def test_a_key_that_cannot_be_decrypted_says_what_to_do(alpha, settings):
    settings.LLM_KEY_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    alpha.llm_api_key = KEY
    alpha.save(update_fields=["llm_api_key"])
    settings.LLM_KEY_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(ImproperlyConfigured, match="rotate_secrets"):
        Tenant.objects.get(pk=alpha.pk)
    settings.LLM_KEY_ENCRYPTION_KEYS = ["not a fernet key"]
    with pytest.raises(ImproperlyConfigured, match="must be Fernet keys"):
        Tenant.objects.get(pk=alpha.pk)


def test_plaintext_keys_from_before_are_encrypted_by_the_migration(alpha):
    import importlib

    migration = importlib.import_module("tenants.migrations.0004_llm_api_key_encrypted")
    with connection.cursor() as cursor:
        cursor.execute("UPDATE public.tenants_tenant SET llm_api_key = %s WHERE id = %s", [KEY, alpha.pk])

    class Editor:
        pass

    editor = Editor()
    editor.connection = connection
    migration.encrypt_existing(None, editor)
    migration.encrypt_existing(None, editor)  # twice: tokens are left alone
    assert KEY not in stored(alpha)
    assert Tenant.objects.get(pk=alpha.pk).llm_api_key == KEY
