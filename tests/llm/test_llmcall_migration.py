"""LLMCall moved from agents_tenant to llm: a tenant that logged calls before the move
keeps every one of them."""

import pytest
from django.core.management import call_command
from django.db import connection

pytestmark = pytest.mark.django_db


def test_calls_logged_before_the_move_are_in_the_llm_table_after_it():
    schema = "llmcall_move"
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE SCHEMA "{schema}"')
    try:
        call_command("migrate_schemas", "agents_tenant", "0002_agentpreferences_agentusage", tenant=True,
                     schema_name=schema, interactive=False, verbosity=0)
        with connection.cursor() as cursor:
            cursor.execute(f'''INSERT INTO "{schema}".agents_tenant_llmcall
                (purpose, provider, model, prompt_hash, input_tokens, output_tokens, cost, latency_ms,
                 outcome, attempts, error, request, response_text, created_at)
                VALUES ('panel:7', 'openai', 'gpt-4o-mini', 'abc', 120, 80, 0.0003, 900, 'ok', 1, '',
                        '{{}}', 'answer', now())''')

        call_command("migrate_schemas", tenant=True, schema_name=schema, interactive=False, verbosity=0)

        with connection.cursor() as cursor:
            cursor.execute(f'SELECT purpose, input_tokens, response_text FROM "{schema}".llm_llmcall')
            assert cursor.fetchall() == [("panel:7", 120, "answer")]
            cursor.execute("SELECT to_regclass(%s)", [f'"{schema}".agents_tenant_llmcall'])
            assert cursor.fetchone() == (None,)
    finally:
        connection.set_schema_to_public()  # the test's transaction rolls the schema back
