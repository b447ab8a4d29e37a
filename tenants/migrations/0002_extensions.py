"""pgvector and pg_trgm live once in the shared `extensions` schema, which is on every
tenant's search_path (PG_EXTRA_SEARCH_PATHS); never inside a tenant schema."""

from django.db import migrations

STATEMENTS = [
    "CREATE SCHEMA IF NOT EXISTS extensions",
    "CREATE EXTENSION IF NOT EXISTS vector SCHEMA extensions",
    "CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA extensions",
]


def create_extensions(apps, schema_editor):
    # RunSQL ignores the tenant router, so say explicitly: only when migrating public.
    if schema_editor.connection.schema_name != "public":
        return
    for statement in STATEMENTS:
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("tenants", "0001_initial")]

    operations = [migrations.RunPython(create_extensions, migrations.RunPython.noop)]
