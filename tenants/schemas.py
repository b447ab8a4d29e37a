"""Making tenant schemas by replaying the SQL their migrations ran, and leaving up-to-date
schemas alone in `migrate_schemas`. The real migrations stay the source of truth.

Why a seam at all: migrating a new schema for real costs about 2 s on this machine, nearly
all of it Django rendering the states of ~33 migrations in Python; the goal is 0.3 s per
tenant. Every new schema runs the very same SQL, so the first creation in a process
migrates a scratch schema for real and records that SQL; later creations replay it in one
round trip (about 0.1 s). The recording is keyed by the migrations on disk, so a new
migration makes the next creation record again. django-tenants' clone function would be
the stock answer, but it loses the dimensions of pgvector columns (NOTES-deps.md).

Replaying equals migrating only while the tenant migrations are plain schema changes.
Creation migrates for real, and says why in the log, as soon as a tenant migration runs
Python or SQL that reads or writes rows (the recording keeps no SELECT, so a
`SELECT setval(...)` would be lost, and Python may depend on the schema it runs in).
tests/tenants/test_schemas.py proves a replayed schema is the migrated one.

`MigrateCommand` (TENANT_BASE_MIGRATE_COMMAND): Django's migrate spends about 0.5 s on a
schema only to find nothing to do, 150 s for 300 tenants against a goal of 30 s; this
command first compares the schema's recorded migrations with the ones on disk.
"""

from __future__ import annotations

import logging
import re
import secrets
import threading
from dataclasses import dataclass

from django.conf import settings
from django.core.management import call_command
from django.core.management.commands import migrate
from django.db import connection, connections, transaction
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.operations import RunPython, RunSQL, SeparateDatabaseAndState
from django_tenants.routers import TenantSyncRouter
from django_tenants.utils import get_public_schema_name

logger = logging.getLogger(__name__)

# Statements that only read or steer the session; replaying them would change nothing.
_NOT_REPLAYED = re.compile(r"^\s*(SELECT|SET|SHOW|SAVEPOINT|RELEASE|ROLLBACK)\b", re.IGNORECASE)
# RunSQL that reads or writes rows may not do the same in another schema. Erring towards
# "yes" only costs speed: the schema is then migrated for real.
_TOUCHES_ROWS = re.compile(r"\b(SELECT|INSERT|UPDATE|DELETE|MERGE|COPY|TRUNCATE|CALL|DO)\b", re.IGNORECASE)
# Django's own data migrations that change only rows a new schema does not have yet (its
# permissions are made after migrating); the equivalence test runs them both ways.
REVIEWED_DATA_MIGRATIONS = frozenset({("auth", "0011_update_proxy_permissions")})


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


def replay_refusal(loader: MigrationLoader) -> str | None:
    """Why the tenant migrations on disk cannot be replayed, or None when they can."""
    for (app_label, name), migration in sorted(loader.graph.nodes.items()):
        if (app_label, name) in REVIEWED_DATA_MIGRATIONS:
            continue
        if not TenantSyncRouter().app_in_list(app_label, settings.TENANT_APPS):
            continue  # runs only in public (the router skips it in tenant schemas)
        for operation in _database_operations(migration.operations):
            if isinstance(operation, RunPython) and operation.code is not RunPython.noop:
                return f"{app_label}.{name} runs Python"
            if isinstance(operation, RunSQL) and any(_TOUCHES_ROWS.search(sql) for sql in _sql_texts(operation.sql)):
                return f"{app_label}.{name} runs SQL that reads or writes rows"
    return None


def _database_operations(operations):
    for operation in operations:
        if isinstance(operation, SeparateDatabaseAndState):
            yield from _database_operations(operation.database_operations)
        else:
            yield operation


def _sql_texts(sql) -> list[str]:
    """RunSQL takes a string or a list of strings and (string, params) pairs."""
    return [sql] if isinstance(sql, str) else [item[0] if isinstance(item, (list, tuple)) else item for item in sql]


def _migrate_for_real(schema_name: str) -> None:
    """Migrate an existing, empty schema the stock way (what django-tenants does)."""
    try:
        call_command("migrate_schemas", tenant=True, schema_name=schema_name, interactive=False, verbosity=0)
    finally:
        connection.set_schema_to_public()


@dataclass(frozen=True)
class SchemaBlueprint:
    """The SQL that migrating an empty tenant schema ran, ready to run again elsewhere."""

    migrations: frozenset[tuple[str, str]]
    sql: str

    @classmethod
    def record(cls, migrations: frozenset[tuple[str, str]]) -> SchemaBlueprint:
        """Migrate a scratch schema for real and keep what it wrote. This runs on a
        connection of its own, so a caller's open transaction does not see it. (A caller's
        transaction that already made a tenant schema holds locks on the public tables its
        foreign keys point to, and would wait for itself: only tests do that, and they
        create a schema by replay before any other in a transaction.)"""
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
                _migrate_for_real(scratch)
        finally:
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
    """Create and fully migrate a tenant schema: by replay when that equals migrating."""
    global _blueprint
    loader = MigrationLoader(None, ignore_no_migrations=True)
    refusal = replay_refusal(loader)
    if refusal:
        logger.info("migrating schema %s for real: %s", schema_name, refusal)
        with connection.cursor() as cursor:
            cursor.execute(f'CREATE SCHEMA "{schema_name}"')
        _migrate_for_real(schema_name)
        return
    migrations = frozenset(loader.graph.nodes)
    with _blueprint_lock:
        if _blueprint is None or _blueprint.migrations != migrations:
            _blueprint = SchemaBlueprint.record(migrations)
            logger.info("recorded the SQL of %d tenant migrations", len(migrations))
        blueprint = _blueprint
    blueprint.apply(schema_name)


class MigrateCommand(migrate.Command):
    """Django's migrate, run by `migrate_schemas` once per schema, which leaves a tenant
    schema alone when it already has every migration on disk."""

    def handle(self, *args, **options):
        schema_name = connection.schema_name
        nothing_asked = not options.get("app_label") and not options.get("migration_name")
        if (nothing_asked and not options.get("fake") and schema_name != get_public_schema_name()
                and schema_migrations_current(schema_name)):
            if options["verbosity"] >= 1:
                self.stdout.write("  No migrations to apply.")
            return
        return super().handle(*args, **options)
