"""Provider faults through the local OpenAI-compatible endpoint, and the token budget:
the panel fails with a readable reason and keeps its transcript."""

import pytest
from django_tenants.utils import schema_context

from llm.models import LLMCall
from panels.models import Contribution, PanelEvent
from tenants.services import tenant_update_configuration
from tests.fakes.llm_server import FakeLLMServer, Reply
from tests.panels.conftest import run_inline

pytestmark = pytest.mark.django_db
EXPERTS = ["fda-510k-specialist", "fda-de-novo-strategist", "samd-ai-regulatory-lead"]


@pytest.fixture
def endpoint(settings):
    with FakeLLMServer() as server:
        settings.LLM_PROVIDER, settings.LLM_MODEL = "openai", "gpt-4o-mini"
        settings.LLM_BASE_URL, settings.LLM_API_KEY, settings.LLM_MAX_ATTEMPTS = server.openai_base_url, "k", 2
        yield server


def test_a_panel_on_a_working_endpoint_is_costed(catalog, alpha, alpha_user, endpoint):
    panel = run_inline(alpha, alpha_user, panel_type="structured", experts=EXPERTS)
    assert panel.status == "COMPLETED"
    assert panel.cost > 0 and panel.tokens_used > 0
    assert endpoint.count("chat") == 2 * 3 + 1  # two rounds of three experts, and the synthesis


def test_retries_are_invisible_when_they_succeed(catalog, alpha, alpha_user, endpoint):
    endpoint.script("chat", Reply(status=429, headers={"Retry-After": "0"}))
    panel = run_inline(alpha, alpha_user, panel_type="structured", experts=EXPERTS, max_rounds=1)
    assert panel.status == "COMPLETED"
    with schema_context("alpha"):
        first = LLMCall.objects.filter(purpose=f"panel:{panel.pk}").order_by("id").first()
        assert first.attempts == 2


def test_provider_down_after_retries_fails_the_panel_and_keeps_the_transcript(catalog, alpha, alpha_user, endpoint):
    endpoint.script("chat", Reply(), Reply(), *[Reply(status=500)] * 20)
    panel = run_inline(alpha, alpha_user, panel_type="structured", experts=EXPERTS)
    assert panel.status == "FAILED"
    assert "did not answer usably after 2 attempts" in panel.error
    with schema_context("alpha"):
        assert Contribution.objects.filter(panel=panel).count() == 2  # the first two experts spoke
        assert PanelEvent.objects.filter(panel=panel, kind="status").last().data["status"] == "failed"
        outcomes = list(LLMCall.objects.filter(purpose=f"panel:{panel.pk}").values_list("outcome", flat=True))
    assert outcomes == ["ok", "ok", "unavailable"]


def test_unreadable_model_output_fails_clearly(catalog, alpha, alpha_user, endpoint):
    endpoint.script("chat", *[Reply(text="I would rather not answer in JSON.")] * 10)
    panel = run_inline(alpha, alpha_user, panel_type="open", experts=EXPERTS, max_rounds=1)
    assert panel.status == "FAILED" and "even after one repair request" in panel.error


def test_the_tenants_token_budget_stops_the_panel_before_overspending(catalog, alpha, alpha_user):
    tenant_update_configuration(tenant=alpha, limits={"max_tokens_per_panel": 5000})
    panel = run_inline(alpha, alpha_user, panel_type="structured", experts=EXPERTS, max_rounds=3)
    assert panel.status == "FAILED" and "token budget" in panel.error
    assert 0 < panel.tokens_used <= 5000
