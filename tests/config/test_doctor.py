"""`manage.py doctor` checks the configured chat provider with a real structured expert
call and the embedder, and fails with one readable line, no traceback."""

import pytest
from django.core.management import call_command

from tests.fakes.llm_server import Reply

pytestmark = pytest.mark.django_db


def run_doctor(capsys):
    try:
        call_command("doctor")
        code = 0
    except SystemExit as exited:
        code = exited.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def line(output: str, part: str) -> str:
    return next(row for row in output.splitlines() if row.startswith(part))


def test_doctor_names_the_offline_provider_and_the_local_embedder(capsys, settings):
    settings.LLM_PROVIDER, settings.LLM_MODEL = "offline", ""
    _, out, _ = run_doctor(capsys)
    assert "ok" in line(out, "llm provider") and "offline / offline-extractive-1" in line(out, "llm provider")
    assert "ok" in line(out, "embedder") and "local / sentence-transformers/all-MiniLM-L6-v2" in line(out, "embedder")


def test_doctor_makes_a_real_structured_call_to_an_openai_endpoint(capsys, settings, llm_server):
    settings.LLM_PROVIDER, settings.LLM_MODEL, settings.LLM_BASE_URL = "openai", "gpt-4o-mini", llm_server.openai_base_url
    _, out, _ = run_doctor(capsys)
    assert "openai / gpt-4o-mini: structured answer" in line(out, "llm provider")
    assert llm_server.count("chat") == 1


@pytest.mark.parametrize(
    "replies, reason",
    [
        ([Reply(status=503)] * 2, "did not answer usably after 2 attempts"),
        ([Reply(status=429)] * 2, "rate-limiting us"),
        ([Reply(text="not json")] * 2, "could not be read as an expert statement"),
    ],
)
def test_doctor_fails_with_one_line_per_problem(capsys, settings, llm_server, replies, reason):
    settings.LLM_PROVIDER, settings.LLM_BASE_URL, settings.LLM_MAX_ATTEMPTS = "openai", llm_server.openai_base_url, 2
    llm_server.script("chat", *replies)
    code, out, err = run_doctor(capsys)
    assert code == 1
    assert "FAIL" in line(out, "llm provider") and reason in line(out, "llm provider")
    assert f"llm provider is not working: " in err and reason in err
    assert "Traceback" not in out + err


def test_doctor_reports_an_endpoint_that_is_down(capsys, settings):
    """With the panels' own retry schedule (a minute of retries, so a 30 s outage does not fail
    a panel): the doctor tries twice and answers."""
    settings.LLM_PROVIDER, settings.LLM_BASE_URL = "openai", "http://127.0.0.1:9/v1"
    code, out, err = run_doctor(capsys)
    assert code == 1 and "could not connect" in line(out, "llm provider") and "Traceback" not in err
    assert "after 2 attempts" in line(out, "llm provider")
