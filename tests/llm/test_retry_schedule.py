"""The production retry schedule (settings) outlasts a 30 s outage of the LLM endpoint:
a call whose first attempt meets the outage still has an attempt after it ends."""

import pytest

from llm.base import ChatRequest, Message, TransientError
from llm.client import LLMClient, RetryPolicy
from llm.errors import ProviderUnavailable

REQUEST = ChatRequest(system="s", messages=(Message(role="user", content="q"),), max_tokens=10)


class Down:
    """An endpoint that refuses every connection."""

    name, model = "openai", "gpt-4o-mini"

    def __init__(self):
        self.calls = 0

    def complete(self, request):
        self.calls += 1
        raise TransientError("could not connect (Connection refused)")


def waits_until_given_up(expected_attempts: int) -> list[float]:
    waits, endpoint = [], Down()
    client = LLMClient(endpoint, retry=RetryPolicy.from_settings(sleep=waits.append))
    with pytest.raises(ProviderUnavailable) as gave_up:
        client.chat(REQUEST)
    assert f"after {expected_attempts} attempts: could not connect" in gave_up.value.message
    assert endpoint.calls == expected_attempts
    return waits


def test_the_production_schedule_waits_out_a_30_second_outage_before_giving_up():
    for _ in range(20):  # whatever the jitter draws
        waits = waits_until_given_up(8)
        assert sum(waits) > 30
        nominal = [1, 2, 4, 8, 16, 20, 20]  # LLM_RETRY_BASE_DELAY_S doubling, capped at LLM_RETRY_MAX_DELAY_S
        assert all(0.75 * n <= w <= 1.25 * n for w, n in zip(waits, nominal, strict=True))


def test_the_schedule_follows_its_settings(settings):
    settings.LLM_MAX_ATTEMPTS, settings.LLM_RETRY_BASE_DELAY_S, settings.LLM_RETRY_MAX_DELAY_S = 3, 0.1, 0.15
    first, second = waits_until_given_up(3)
    assert 0.075 <= first <= 0.125 and 0.1125 <= second <= 0.1875
