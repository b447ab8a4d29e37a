"""Making and migrating tenant schemas quickly, with the real migrations as the source of truth.

Creating a schema by running ~30 migrations costs about half a second, nearly all of it
Django rendering migration states in Python. Every new schema runs the very same SQL,
so the first creation in a process records that SQL (by migrating a scratch schema) and
later creations replay it in one round trip. The recording is keyed by the set of
migrations on disk, so a new migration makes the next creation record again. Cloning a
schema with django-tenants' clone function is not an option: it loses the dimensions
of pgvector columns (NOTES-deps.md).

`migrate_schemas` checks each schema's recorded migrations against that same set first
and leaves up-to-date schemas alone (Django's migrate would spend ~100 ms on each only
to find nothing to do).
"""

from __future__ import annotations

import logging
import re
import secrets
import threading
from dataclasses import dataclass

from django.core.management import call_command
from django.core.management.commands import migrate
from django.db import connection, connections, transaction
from django.db.migrations.loader import MigrationLoader
from django_tenants.utils import get_public_schema_name

logger = logging.getLogger(__name__)

# Statements that only read or steer the session; replaying them would change nothing.
# A migration that changes data through a SELECT (say `SELECT setval(...)` in RunSQL) would
# need this changed; tests/tenants/test_schemas.py compares a replayed schema with a
# migrated one (shape, migrations, content types, permissions).
_NOT_REPLAYED = re.compile(r"^\s*(SELECT|SET|SHOW|SAVEPOINT|RELEASE|ROLLBACK)\b", re.IGNORECASE)


def migrations_on_disk() -> frozenset[tuple[str, str]]:
    """Every (app, migration) of the project; a migrated schema records all of them."""
    return frozenset(MigrationLoader(None, ignore_no_migrations=True).graph.nodes)


def schema_migrations_current(schema_name: str, expected: frozenset[tuple[str, str]] | None = None) -> bool:
    """True when the schema has recorded exactly the migrations on disk."""
    expected = migrations_on_disk() if expected is None else expected
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [f'"{schema_name}".django_migrations'])
        if not cursor.fetchone()[0]:
            return False
        cursor.execute(f'SELECT app, name FROM "{schema_name}".django_migrations')
        return frozenset(cursor.fetchall()) == expected


@dataclass(frozen=True)
class SchemaBlueprint:
    """The SQL that migrating an empty tenant schema ran, ready to run again elsewhere."""

    migrations: frozenset[tuple[str, str]]
    sql: str

    @classmethod
    def record(cls, migrations: frozenset[tuple[str, str]]) -> SchemaBlueprint:
        """Migrate a scratch schema for real and keep what it wrote. This runs on a
        connection of its own, so a caller's open transaction neither sees nor blocks it."""
        outcome: dict = {}

        def run():
            try:
                outcome["blueprint"] = cls._record_on_this_connection(migrations)
            except BaseException as error:  # handed to the caller's thread below
                outcome["error"] = error
            finally:
                connections.close_all()

        thread = threading.Thread(target=run, name="schema-blueprint")
        thread.start()
        thread.join()
        if "error" in outcome:
            raise outcome["error"]
        return outcome["blueprint"]

    @classmethod
    def _record_on_this_connection(cls, migrations: frozenset[tuple[str, str]]) -> SchemaBlueprint:
        scratch = f"blueprint_{secrets.token_hex(6)}"
        statements: list[str] = []

        def keep(execute, sql, params, many, context):
            if not _NOT_REPLAYED.match(sql):
                for one_params in (params if many else [params]):
                    statements.append(sql if one_params is None else connection.ops.compose_sql(sql, one_params))
            return execute(sql, params, many, context)

        with connection.cursor() as cursor:
            cursor.execute(f'CREATE SCHEMA "{scratch}"')
        try:
            with connection.execute_wrapper(keep):
                call_command("migrate_schemas", tenant=True, schema_name=scratch, interactive=False, verbosity=0)
        finally:
            connection.set_schema_to_public()
            with connection.cursor() as cursor:
                cursor.execute(f'DROP SCHEMA IF EXISTS "{scratch}" CASCADE')
        if any(scratch in statement for statement in statements):
            raise RuntimeError(f"Migrations wrote the schema name {scratch!r} into their SQL; they cannot be replayed.")
        return cls(migrations=migrations, sql=";\n".join(statements))

    def apply(self, schema_name: str) -> None:
        """Create the schema and replay the migrations' SQL in it, all or nothing."""
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(f'CREATE SCHEMA "{schema_name}"')
            connection.set_schema(schema_name)
            try:
                with connection.cursor() as cursor:
                    cursor.execute(self.sql)
                    cursor.execute("UPDATE django_migrations SET applied = now()")
                    cursor.execute("SELECT count(*) FROM django_migrations")
                    recorded = cursor.fetchone()[0]
            finally:
                connection.set_schema_to_public()
            if recorded != len(self.migrations):
                raise RuntimeError(f"Replaying migrations in {schema_name!r} recorded {recorded} of "
                                   f"{len(self.migrations)}; the schema was not created.")


_blueprint: SchemaBlueprint | None = None
_blueprint_lock = threading.Lock()


def tenant_schema_create(schema_name: str) -> None:
    """Create and fully migrate a tenant schema (replaying the recorded migrations)."""
    global _blueprint
    migrations = migrations_on_disk()
    with _blueprint_lock:
        if _blueprint is None or _blueprint.migrations != migrations:
            _blueprint = SchemaBlueprint.record(migrations)
            logger.info("recorded the SQL of %d tenant migrations", len(migrations))
        blueprint = _blueprint
    blueprint.apply(schema_name)


class MigrateCommand(migrate.Command):
    """Django's migrate, run by `migrate_schemas` once per schema (TENANT_BASE_MIGRATE_COMMAND),
    which skips a tenant schema that already has every migration."""

    _expected: frozenset[tuple[str, str]] | None = None

    def handle(self, *args, **options):
        schema_name = connection.schema_name
        nothing_asked = not options.get("app_label") and not options.get("migration_name")
        if nothing_asked and schema_name != get_public_schema_name() and not options.get("fake"):
            if MigrateCommand._expected is None:
                MigrateCommand._expected = migrations_on_disk()
            if schema_migrations_current(schema_name, MigrateCommand._expected):
                if options["verbosity"] >= 1:
                    self.stdout.write("  No migrations to apply.")
                return
        return super().handle(*args, **options)
