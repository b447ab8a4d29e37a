"""Tenant schemas made by replaying the migrations' SQL are the schemas the migrations make;
a tenant migration that replaying cannot reproduce makes creation migrate for real; and
migrate_schemas leaves alone only the schemas that have every migration."""

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.db.models.signals import post_migrate
from django_tenants.utils import schema_context, schema_exists

from tenants import schemas
from tenants.models import Tenant
from tenants.services import tenant_create
from tests.factories import make_user

pytestmark = pytest.mark.django_db
EXTRA_MIGRATIONS = "tests.tenants.schema_migrations."


def schema_shape(schema_name: str) -> dict:
    """Everything about a schema that migrations decide, with its name taken out."""

    def rows(sql):
        with connection.cursor() as cursor:
            cursor.execute(sql, {"schema": schema_name})
            return sorted(tuple(str(value).replace(schema_name, "<schema>") for value in row) for row in cursor.fetchall())

    return {
        "columns": rows("""
            SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
                   pg_get_expr(d.adbin, d.adrelid), a.attidentity
            FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
            JOIN pg_namespace n ON n.oid = c.relnamespace
            LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
            WHERE n.nspname = %(schema)s AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped"""),
        "indexes": rows("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = %(schema)s"),
        "constraints": rows("""
            SELECT c.relname, k.conname, pg_get_constraintdef(k.oid)
            FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
            JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %(schema)s"""),
        "migrations": rows('SELECT app, name FROM "{}".django_migrations'.format(schema_name)),
        "content_types": rows('SELECT id, app_label, model FROM "{}".django_content_type'.format(schema_name)),
        "permissions": rows('SELECT content_type_id, codename, name FROM "{}".auth_permission'.format(schema_name)),
    }


def migrate_for_real(schema_name: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE SCHEMA "{schema_name}"')
    call_command("migrate_schemas", tenant=True, schema_name=schema_name, interactive=False, verbosity=0)
    connection.set_schema_to_public()


def test_a_replayed_schema_is_the_schema_the_migrations_make():
    # today's tenant migrations are plain schema changes, so creation replays them
    assert schemas.replay_refusal(MigrationLoader(None, ignore_no_migrations=True)) is None
    schemas.tenant_schema_create("shape_replayed")  # first: recording may need to run (see record())
    migrate_for_real("shape_migrated")

    migrated, replayed = schema_shape("shape_migrated"), schema_shape("shape_replayed")

    assert replayed == migrated
    assert len(replayed["migrations"]) == len(schemas.migrations_on_disk())
    # pgvector columns keep their dimensions (django-tenants' clone function loses them)
    assert ("rag_chunk", "embedding", "vector(384)") in {column[:3] for column in replayed["columns"]}
    assert any("hnsw" in indexdef for _, indexdef in replayed["indexes"])
    # the LLM call log moved to the llm app with its table renamed, in both
    assert "llm_llmcall" in {column[0] for column in replayed["columns"]}


def test_a_tenant_schema_is_usable_right_after_creation():
    tenant = tenant_create(name="Fresh Co", schema_name="fresh_co", domain="fresh-co.localhost")

    user = make_user(tenant, "fresh-admin", is_admin=True)

    assert user.pk is not None
    assert schemas.schema_migrations_current("fresh_co")
    assert Tenant.objects.get(schema_name="fresh_co").domains.get().domain == "fresh-co.localhost"


@pytest.fixture
def migrated_schemas():
    """Schemas Django's migrate really ran in (it always ends with post_migrate)."""
    seen = []

    def record(sender, **kwargs):
        seen.append(connection.schema_name)

    post_migrate.connect(record, weak=False, dispatch_uid="test-schemas-record")
    yield seen
    post_migrate.disconnect(dispatch_uid="test-schemas-record")


def test_a_tenant_migration_that_runs_python_is_migrated_for_real(settings, migrated_schemas):
    settings.MIGRATION_MODULES = {"messages": EXTRA_MIGRATIONS + "runs_python"}
    refusal = schemas.replay_refusal(MigrationLoader(None, ignore_no_migrations=True))

    schemas.tenant_schema_create("by_python")

    assert refusal == "messages.0001_name_a_group_after_the_schema runs Python"
    assert "by_python" in migrated_schemas
    with schema_context("by_python"):  # the migration ran in the new schema itself
        assert list(Group.objects.values_list("name", flat=True)) == ["by_python"]
    assert schemas.schema_migrations_current("by_python")


def test_a_tenant_migration_whose_sql_touches_rows_is_migrated_for_real(settings, migrated_schemas):
    settings.MIGRATION_MODULES = {"messages": EXTRA_MIGRATIONS + "sets_a_sequence"}
    refusal = schemas.replay_refusal(MigrationLoader(None, ignore_no_migrations=True))

    schemas.tenant_schema_create("by_sql")

    assert refusal == "messages.0001_group_ids_start_at_501 runs SQL that reads or writes rows"
    assert "by_sql" in migrated_schemas
    with schema_context("by_sql"):  # a replay would have dropped the SELECT setval(...)
        assert Group.objects.create(name="first").pk == 501


def test_a_migration_added_on_disk_is_in_the_next_replayed_schema(settings, migrated_schemas):
    settings.MIGRATION_MODULES = {"messages": EXTRA_MIGRATIONS + "adds_a_table"}

    schemas.tenant_schema_create("after_note")

    assert "after_note" not in migrated_schemas  # replayed, from a new recording
    assert schemas.schema_migrations_current("after_note")
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('after_note.messages_note'), to_regclass('alpha.messages_note')")
        assert cursor.fetchone() == ("after_note.messages_note", None)  # alpha was made before it existed


def test_a_failed_replay_leaves_no_schema_behind():
    broken = schemas.SchemaBlueprint(migrations=schemas.migrations_on_disk(),
                                     sql='CREATE TABLE "ok_table" (id int);\nCREATE TABLE broken (')

    with pytest.raises(Exception):
        broken.apply("half_made")

    assert not schema_exists("half_made")


def test_a_replay_that_records_too_few_migrations_is_refused():
    short = schemas.SchemaBlueprint(
        migrations=schemas.migrations_on_disk(),
        sql="CREATE TABLE django_migrations (id serial, app text, name text, applied timestamptz);\n"
            "INSERT INTO django_migrations (app, name, applied) VALUES ('panels', '0001_initial', now())")

    with pytest.raises(RuntimeError, match="recorded 1 of"):
        short.apply("too_few")

    assert not schema_exists("too_few")


def test_migrate_schemas_skips_current_schemas_and_migrates_stale_ones(migrated_schemas):
    tenant_create(name="Stale Co", schema_name="stale_co", domain="stale-co.localhost")
    call_command("migrate_schemas", schema_name="stale_co", app_label="authtoken", migration_name="0003",
                 interactive=False, verbosity=0)
    connection.set_schema_to_public()
    assert not schemas.schema_migrations_current("stale_co")
    migrated_schemas.clear()

    call_command("migrate_schemas", interactive=False, verbosity=0)
    connection.set_schema_to_public()

    assert "stale_co" in migrated_schemas
    assert "alpha" not in migrated_schemas and "beta" not in migrated_schemas
    assert schemas.schema_migrations_current("stale_co")
    assert schemas.schema_migrations_current("alpha")
