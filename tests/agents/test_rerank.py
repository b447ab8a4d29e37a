"""With a real LLM and `llm.rerank_experts` on, the model re-ranks the best 20 experts:
its choice leads, with its reasons, is cached per tenant and question, and any provider
error or unusable answer falls back to the deterministic ranking."""

import itertools
import json

import pytest
from django.core.cache import cache
from django_tenants.utils import schema_context

from agents.rerank import PURPOSE
from llm.models import LLMCall
from tenants.services import tenant_update_configuration
from tests.conftest import api_client, make_token
from tests.factories import make_user
from tests.fakes.llm_server import Reply

pytestmark = pytest.mark.django_db

USERS = itertools.count()
QUESTION = "Should we file a De Novo or a 510(k) for our AI-based ECG arrhythmia detection software?"


@pytest.fixture
def reranking(alpha, llm_server, settings):
    settings.LLM_PROVIDER, settings.LLM_API_KEY = "offline", ""
    cache.clear()
    tenant_update_configuration(tenant=alpha, llm={"provider": "openai", "model": "gpt-4o-mini",
                                                   "base_url": llm_server.openai_base_url, "rerank_experts": True})
    alpha.llm_api_key = "sk-test-rerank-0123456789"
    alpha.save()
    return llm_server


def recommend(tenant, question=QUESTION, k=5):
    token = make_token(tenant, make_user(tenant, f"reranker{next(USERS)}"))
    response = api_client(tenant, token=token).get("/api/v1/agents/recommend/", {"q": question, "k": k})
    assert response.status_code == 200, response.content
    return response.json()["results"]


def slugs(results):
    return [r["agent"]["slug"] for r in results]


def offline_ranking(question=QUESTION, k=12):
    """The deterministic ranking, as beta gets it (no steering, no re-rank: the same as alpha's without it)."""
    from agents.ranking import rank_agents

    with schema_context("beta"):
        return [r.agent.slug for r in rank_agents(question=question, k=k, diverse=False)]


def test_the_models_choice_leads_with_its_reasons_and_is_cached(catalog, alpha, beta, reranking):
    deterministic = offline_ranking()
    wanted = [deterministic[9], deterministic[7]]  # in the model's pool of 20, not in the top 5
    reranking.script("chat", Reply(text=json.dumps({"experts": [
        {"slug": wanted[0], "reason": "Knows the exact pathway."},
        {"slug": "not-in-the-pool", "reason": "invented"},
        {"slug": wanted[1], "reason": "Second  opinion\nneeded."}]})))

    results = recommend(alpha)
    assert slugs(results)[:2] == wanted
    assert "Chosen by gpt-4o-mini: Knows the exact pathway." in results[0]["reasons"]
    assert "Chosen by gpt-4o-mini: Second opinion needed." in results[1]["reasons"]
    assert len(results) == 5
    prompt = reranking.requests[-1]["payload"]["messages"][-1]["content"]
    assert QUESTION in prompt and wanted[0] in prompt and prompt.count("\n- ") == 20  # 20 candidates

    assert slugs(recommend(alpha)) == slugs(results)  # asked again: from the cache
    assert reranking.count("chat") == 1
    with schema_context("alpha"):
        call = LLMCall.objects.get(purpose=PURPOSE)
        assert (call.provider, call.outcome) == ("openai", "ok")


@pytest.mark.parametrize("reply", [
    Reply(status=500),
    Reply(text="I would rather not say."),
    Reply(text=json.dumps({"experts": [{"slug": "nobody-we-know", "reason": "?"}]})),
], ids=["provider-error", "no-json", "unknown-slugs"])
def test_any_failure_falls_back_to_the_deterministic_ranking(catalog, alpha, beta, reranking, reply):
    reranking.script("chat", reply)
    results = recommend(alpha)
    assert slugs(results) == deterministic_top5()
    assert not any("Chosen by" in reason for r in results for reason in r["reasons"])
    recommend(alpha)
    assert reranking.count("chat") == 2  # a failure is not cached: the next request asks again


def deterministic_top5():
    from agents.ranking import rank_agents

    with schema_context("beta"):
        return [r.agent.slug for r in rank_agents(question=QUESTION, k=5)]


def test_off_by_default_and_never_with_the_offline_provider(catalog, alpha, beta, reranking):
    recommend(beta)  # beta has no re-rank: deterministic, no call
    assert reranking.count("chat") == 0
    with schema_context("public"):
        tenant_update_configuration(tenant=alpha, llm={"provider": "offline", "rerank_experts": True})
    recommend(alpha)
    assert reranking.count("chat") == 0


def test_the_setting_is_validated(alpha):
    from tenants.services import ProvisioningError

    with pytest.raises(ProvisioningError, match="llm.rerank_experts: must be true or false"):
        tenant_update_configuration(tenant=alpha, llm={"rerank_experts": "yes"})
