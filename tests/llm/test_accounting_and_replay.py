"""Every call is recorded against the tenant; a recorded log replays with no network."""

from decimal import Decimal

import pytest
from django_tenants.utils import schema_context

from llm.providers import llm_client, provider_settings
from llm.client import LLMClient, RetryPolicy
from llm.errors import ReplayMissing
from panels.orchestration.experts import ask_expert
from llm.offline import OfflineProvider
from llm.openai_provider import OpenAIProvider
from llm.replay import JsonlRecorder, ReplayProvider, load_call_log, records_from_calls
from llm.models import LLMCall
from llm.services import llm_call_recorder
from tenants.context import TenantContextMissing
from tests.llm.conftest import expert_task
from tests.conftest import api_client, make_token, make_user


def test_replay_reproduces_the_recorded_outputs_without_the_network(llm_server, tmp_path):
    log = tmp_path / "calls.jsonl"
    provider = OpenAIProvider(model="gpt-4o-mini", api_key="k", base_url=llm_server.openai_base_url)
    recorded = [ask_expert(LLMClient(provider, recorders=[JsonlRecorder(log)]), expert_task(round_number=n))[0]
                for n in (1, 2)]
    llm_server.stop()  # no network from here on

    replay = LLMClient(ReplayProvider(load_call_log(log)))
    replayed = [ask_expert(replay, expert_task(round_number=n))[0] for n in (1, 2)]
    assert replayed == recorded
    with pytest.raises(ReplayMissing, match="cannot reproduce"):
        ask_expert(LLMClient(ReplayProvider(load_call_log(log)), retry=RetryPolicy(max_attempts=1)),
                   expert_task(question="A question nobody asked before?"))


@pytest.mark.django_db
def test_calls_are_recorded_in_the_tenants_schema_and_replay_from_there(alpha, beta):
    with schema_context("alpha"):
        client = llm_client(provider=OfflineProvider(), recorders=[llm_call_recorder(purpose="panel:1")])
        answer, _ = ask_expert(client, expert_task())
        call = LLMCall.objects.get()
        assert (call.purpose, call.provider, call.outcome, call.attempts) == ("panel:1", "offline", "ok", 1)
        assert call.input_tokens > 0 and call.cost == Decimal("0")
        replayed, _ = ask_expert(LLMClient(ReplayProvider(records_from_calls(LLMCall.objects.all()))), expert_task())
        assert replayed == answer
    with schema_context("beta"):
        assert LLMCall.objects.count() == 0


@pytest.mark.django_db
def test_recording_outside_a_tenant_is_refused():
    client = llm_client(provider=OfflineProvider(), recorders=[llm_call_recorder(purpose="x")])
    with pytest.raises(TenantContextMissing):
        ask_expert(client, expert_task())


@pytest.mark.django_db
def test_a_tenant_may_override_provider_model_and_key_and_never_sees_the_key(alpha, beta, settings):
    from tenants.services import tenant_update_configuration

    settings.LLM_PROVIDER, settings.LLM_API_KEY = "offline", ""
    tenant_update_configuration(tenant=alpha, llm={"provider": "openai", "model": "gpt-4.1",
                                                   "base_url": "http://127.0.0.1:9/v1"})
    alpha.llm_api_key = "sk-alpha-secret-0123456789"
    alpha.save()
    chosen = provider_settings(alpha)
    assert (chosen.provider, chosen.model, chosen.api_key) == ("openai", "gpt-4.1", "sk-alpha-secret-0123456789")
    assert "sk-alpha-secret-0123456789" not in repr(chosen)
    assert provider_settings(beta).provider == "offline"

    user = make_user(alpha, "keyviewer")
    body = api_client(alpha, token=make_token(alpha, user)).get("/api/v1/tenant/").json()
    assert body["llm"]["model"] == "gpt-4.1"
    assert body["llm"]["api_key"] == "sk-…6789"


@pytest.mark.django_db
def test_unknown_provider_override_is_refused_naming_the_field(alpha):
    from tenants.services import ProvisioningError, tenant_update_configuration

    with pytest.raises(ProvisioningError, match="llm"):
        tenant_update_configuration(tenant=alpha, llm={"provider": "skynet"})
