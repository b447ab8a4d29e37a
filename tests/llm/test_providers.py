"""Chat providers against a local HTTP server that speaks the OpenAI and Anthropic
protocols: success, structure in prose, retries, timeouts, failures, budgets."""

import json

import pytest

from llm.providers import llm_client
from llm.anthropic_provider import AnthropicProvider
from llm.base import ChatRequest, Message
from llm.client import LLMClient, RetryPolicy, TokenBudget
from llm.errors import (
    BudgetExceeded,
    MalformedOutput,
    ProviderMisconfigured,
    ProviderRateLimited,
    ProviderUnavailable,
)
from panels.orchestration.experts import ask_expert
from llm.openai_provider import OpenAIProvider
from tests.llm.conftest import expert_task
from tests.fakes.llm_server import Reply

VALID = json.dumps({"statement": "Use De Novo [c1].", "position": "De Novo.", "stance": "support",
                    "confidence": 0.8, "key_points": ["no predicate"], "citations": ["c1"], "action": "proceed"})


class SleepLog:
    def __init__(self):
        self.delays = []

    def __call__(self, seconds):
        self.delays.append(seconds)


def openai_client(server, *, attempts=4, timeout_s=5.0, budget=None, records=None, sleep=None):
    provider = OpenAIProvider(model="gpt-4o-mini", api_key="sk-test-123456789", base_url=server.openai_base_url,
                              timeout_s=timeout_s)
    return LLMClient(provider, retry=RetryPolicy(max_attempts=attempts, base_delay_s=0.01, sleep=sleep or SleepLog()),
                     budget=budget, recorders=[records.append] if records is not None else None,
                     price=(0.15, 0.60))  # USD per 1M tokens, as the price table has gpt-4o-mini


def anthropic_client(server, *, attempts=4, sleep=None):
    provider = AnthropicProvider(model="claude-sonnet-4-6", api_key="ak-test", base_url=server.anthropic_base_url)
    return LLMClient(provider, retry=RetryPolicy(max_attempts=attempts, base_delay_s=0.01, sleep=sleep or SleepLog()))


def simple_request(text="Hello"):
    return ChatRequest(system="You are terse.", messages=(Message("user", text),), max_tokens=50)


def test_openai_success_reports_text_tokens_cost_and_latency(llm_server):
    records = []
    llm_server.script("chat", Reply(text="Hi there."))
    result = openai_client(llm_server, records=records).chat(simple_request())
    assert result.text == "Hi there."
    assert result.usage.provider == "openai" and result.usage.model == "gpt-4o-mini"
    assert result.usage.input_tokens > 0 and result.usage.output_tokens > 0
    expected_cost = result.usage.input_tokens * 0.15 / 1e6 + result.usage.output_tokens * 0.60 / 1e6
    assert result.usage.cost == pytest.approx(expected_cost, rel=1e-3)
    assert result.usage.latency_s > 0
    sent = llm_server.requests[0]
    assert sent["payload"]["model"] == "gpt-4o-mini"
    assert sent["payload"]["messages"][0] == {"role": "system", "content": "You are terse."}
    assert sent["headers"]["authorization"] == "Bearer sk-test-123456789"
    assert [r.outcome for r in records] == ["ok"]
    assert records[0].prompt_hash == result.prompt_hash and records[0].response_text == "Hi there."


def test_structured_answer_inside_fences_and_prose_is_read(llm_server):
    llm_server.script("chat", Reply(text=f"Sure! Here is my answer:\n```json\n{VALID}\n```\nHope that helps."))
    answer, calls = ask_expert(openai_client(llm_server), expert_task())
    assert (answer.stance, answer.confidence, answer.citations, answer.action) == ("support", 0.8, ["c1"], "proceed")
    assert len(calls) == 1


def test_bare_json_in_prose_with_percent_confidence_is_read(llm_server):
    reply = VALID.replace('"confidence": 0.8', '"confidence": "85%"').replace('"support"', '"for"')
    llm_server.script("chat", Reply(text=f"My view: {reply} -- end"))
    answer, _ = ask_expert(openai_client(llm_server), expert_task())
    assert answer.confidence == 0.85 and answer.stance == "support"


def test_429_with_retry_after_then_success_honours_the_header(llm_server):
    sleep = SleepLog()
    llm_server.script("chat", Reply(status=429, headers={"Retry-After": "0.25"}), Reply(text="ok"))
    result = openai_client(llm_server, sleep=sleep).chat(simple_request())
    assert result.text == "ok" and result.usage.attempts == 2
    assert sleep.delays == [0.25]
    assert llm_server.count("chat") == 2


def test_500_then_success_backs_off_with_jitter(llm_server):
    sleep = SleepLog()
    llm_server.script("chat", Reply(status=500), Reply(status=502), Reply(text="fine"))
    result = openai_client(llm_server, sleep=sleep).chat(simple_request())
    assert result.text == "fine" and result.usage.attempts == 3
    assert len(sleep.delays) == 2
    assert 0.0075 <= sleep.delays[0] <= 0.0125 and 0.015 <= sleep.delays[1] <= 0.025  # 0.01 then 0.02, +/-25%


def test_timeout_then_success(llm_server):
    llm_server.script("chat", Reply(delay_s=1.0), Reply(text="quick"))
    result = openai_client(llm_server, timeout_s=0.3).chat(simple_request())
    assert result.text == "quick" and result.usage.attempts == 2


def test_timeouts_every_time_is_provider_unavailable(llm_server):
    llm_server.script("chat", *[Reply(delay_s=1.0)] * 2)
    with pytest.raises(ProviderUnavailable, match="timed out"):
        openai_client(llm_server, attempts=2, timeout_s=0.2).chat(simple_request())


def test_persistent_5xx_fails_after_exactly_max_attempts_and_is_recorded(llm_server):
    records = []
    llm_server.script("chat", *[Reply(status=503)] * 10)
    with pytest.raises(ProviderUnavailable) as failure:
        openai_client(llm_server, attempts=3, records=records).chat(simple_request())
    assert llm_server.count("chat") == 3
    assert "after 3 attempts" in failure.value.message and "openai (gpt-4o-mini)" in failure.value.message
    assert [(r.outcome, r.attempts) for r in records] == [("unavailable", 3)]


def test_persistent_429_is_rate_limited(llm_server):
    llm_server.script("chat", *[Reply(status=429)] * 10)
    with pytest.raises(ProviderRateLimited, match="rate-limiting"):
        openai_client(llm_server, attempts=3).chat(simple_request())
    assert llm_server.count("chat") == 3


def test_bad_credentials_are_not_retried(llm_server):
    llm_server.script("chat", Reply(status=401))
    with pytest.raises(ProviderMisconfigured, match="credentials"):
        openai_client(llm_server).chat(simple_request())
    assert llm_server.count("chat") == 1


def test_unreachable_endpoint_is_unavailable():
    provider = OpenAIProvider(model="gpt-4o-mini", api_key="k", base_url="http://127.0.0.1:9/v1", timeout_s=1)
    client = LLMClient(provider, retry=RetryPolicy(max_attempts=2, base_delay_s=0.01, sleep=SleepLog()))
    with pytest.raises(ProviderUnavailable, match="could not connect"):
        client.chat(simple_request())


def test_malformed_output_gets_one_repair_then_succeeds(llm_server):
    llm_server.script("chat", Reply(text="I think De Novo is best, honestly."), Reply(text=VALID))
    answer, calls = ask_expert(openai_client(llm_server), expert_task())
    assert answer.position == "De Novo." and len(calls) == 2
    repair_messages = llm_server.requests[1]["payload"]["messages"]
    assert repair_messages[-2] == {"role": "assistant", "content": "I think De Novo is best, honestly."}
    assert "could not be used" in repair_messages[-1]["content"]


def test_malformed_output_twice_is_a_clear_error(llm_server):
    llm_server.script("chat", Reply(text="no json"), Reply(text='{"statement": "x", "stance": "maybe"}'))
    with pytest.raises(MalformedOutput) as failure:
        ask_expert(openai_client(llm_server), expert_task())
    assert "even after one repair" in failure.value.message
    assert "stance" in failure.value.message
    assert llm_server.count("chat") == 2


def test_anthropic_success_and_retry(llm_server):
    sleep = SleepLog()
    llm_server.script("messages", Reply(status=529), Reply(status=429, headers={"retry-after": "0.1"}),
                      Reply(text=f"```json\n{VALID}\n```"))
    answer, calls = ask_expert(anthropic_client(llm_server, sleep=sleep), expert_task())
    assert answer.stance == "support"
    assert calls[0].usage.provider == "anthropic" and calls[0].usage.attempts == 3
    assert sleep.delays[1] == 0.1
    sent = llm_server.requests[-1]
    assert sent["payload"]["system"].startswith("You are a senior 510(k) specialist.")
    headers = sent["headers"]
    assert headers.get("x-api-key") == "ak-test" or headers.get("authorization") == "Bearer ak-test"
    assert "anthropic-version" in headers


def test_anthropic_malformed_output_is_a_clear_error(llm_server):
    llm_server.script("messages", Reply(text="prose only"), Reply(text="still prose"))
    with pytest.raises(MalformedOutput):
        ask_expert(anthropic_client(llm_server), expert_task())


def test_budget_stops_before_any_request_is_sent(llm_server):
    records = []
    client = openai_client(llm_server, budget=TokenBudget(40, label="panel"), records=records)
    with pytest.raises(BudgetExceeded, match="has 40 of its 40 tokens left"):
        client.chat(simple_request())
    assert llm_server.count("chat") == 0
    assert records[0].outcome == "budget_exceeded"


def test_panel_budget_is_spent_then_refuses(llm_server):
    budget = TokenBudget(1400, label="panel")
    client = openai_client(llm_server, budget=budget)
    request = ChatRequest(system="s", messages=(Message("user", "x" * 400),), max_tokens=300)
    client.chat(request)
    assert budget.spent > 0
    spent_after_first = budget.spent
    while True:
        try:
            client.chat(request)
        except BudgetExceeded:
            break
    assert budget.spent <= 1400
    assert llm_server.count("chat") == budget.spent // spent_after_first


def test_per_call_limit(llm_server):
    client = LLMClient(OpenAIProvider(model="m", api_key="k", base_url=llm_server.openai_base_url),
                       max_tokens_per_call=200)
    with pytest.raises(BudgetExceeded, match="per-call limit of 200"):
        client.chat(ChatRequest(system="s", messages=(Message("user", "y" * 2000),), max_tokens=100))
    assert llm_server.count("chat") == 0


@pytest.mark.django_db
def test_llm_client_factory_uses_settings(settings, llm_server):
    settings.LLM_PROVIDER, settings.LLM_MODEL = "openai", "gpt-4.1-mini"
    settings.LLM_BASE_URL, settings.LLM_API_KEY = llm_server.openai_base_url, "sk-from-settings"
    result = llm_client().chat(simple_request())
    assert result.usage.model == "gpt-4.1-mini"
    assert llm_server.requests[0]["headers"]["authorization"] == "Bearer sk-from-settings"
    # priced from the price table (tenants/billing/prices.yaml: gpt-4.1-mini $0.40 / $1.60 per 1M)
    expected_cost = result.usage.input_tokens * 0.40 / 1e6 + result.usage.output_tokens * 1.60 / 1e6
    assert result.usage.cost == pytest.approx(expected_cost, rel=1e-3)


def test_provider_clients_share_one_connection_pool_but_send_their_own_keys(llm_server):
    first = OpenAIProvider(model="gpt-4o-mini", api_key="sk-tenant-a", base_url=llm_server.openai_base_url)
    second = OpenAIProvider(model="gpt-4o-mini", api_key="sk-tenant-b", base_url=llm_server.openai_base_url)
    request = ChatRequest(system="You are terse.", messages=[Message(role="user", content="Hello")])

    first.complete(request)
    second.complete(request)

    assert first._client._client is second._client._client  # the SDKs' HTTP client: one per process
    keys = [r["headers"]["authorization"] for r in llm_server.requests if r["route"] == "chat"]
    assert keys == ["Bearer sk-tenant-a", "Bearer sk-tenant-b"]
