"""The agents API: catalog, one agent, recommendations, the tenant's preferences —
with every tenant's preferences kept to itself."""

import pytest
from django_tenants.utils import schema_context

from agents.tenant.models import AgentPreferences
from tests.conftest import api_client, make_token, make_user

pytestmark = pytest.mark.django_db
QUESTION = "Which evidence do payers in Germany need for our new oncology drug's AMNOG dossier?"


@pytest.fixture
def alpha_admin_api(alpha):
    return api_client(alpha, token=make_token(alpha, make_user(alpha, "alpha-admin", is_admin=True)))


@pytest.fixture
def beta_admin_api(beta):
    return api_client(beta, token=make_token(beta, make_user(beta, "beta-admin", is_admin=True)))


def test_catalog_is_paginated_with_count_and_results(catalog, alpha_api):
    body = alpha_api.get("/api/v1/agents/", {"page_size": 20}).json()
    assert body["count"] >= 136 and len(body["results"]) == 20 and body["next"]
    assert {"slug", "name", "title", "domain", "tier", "capabilities"} <= set(body["results"][0])
    assert "system_prompt" not in body["results"][0]
    everything = alpha_api.get("/api/v1/agents/", {"page_size": 500}).json()
    assert len(everything["results"]) == min(everything["count"], 200)  # page_size is capped at 200


def test_catalog_filters(catalog, alpha_api):
    by_domain = alpha_api.get("/api/v1/agents/", {"domain": "pharmacovigilance", "page_size": 200}).json()
    assert by_domain["count"] >= 6 and {a["domain"] for a in by_domain["results"]} == {"pharmacovigilance"}
    by_tier = alpha_api.get("/api/v1/agents/", {"tier": 1, "page_size": 200}).json()
    assert {a["tier"] for a in by_tier["results"]} == {1}
    searched = alpha_api.get("/api/v1/agents/", {"q": "biosimilar"}).json()
    assert searched["count"] >= 1 and any("iosimilar" in a["title"] for a in searched["results"])


@pytest.mark.parametrize("params, field", [({"domain": "astrology"}, "domain"), ({"tier": 9}, "tier")])
def test_bad_filters_are_400_with_the_error_shape(catalog, alpha_api, params, field):
    response = alpha_api.get("/api/v1/agents/", params)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid" and field in response.json()["error"]["details"]["fields"]


def test_one_agent_and_an_unknown_one(catalog, alpha_api):
    body = alpha_api.get("/api/v1/agents/fda-510k-specialist/").json()
    assert body["slug"] == "fda-510k-specialist" and body["system_prompt"]
    missing = alpha_api.get("/api/v1/agents/no-such-agent/")
    assert missing.status_code == 404 and "no-such-agent" in missing.json()["error"]["message"]


def test_recommend_returns_ranked_agents_with_scores_and_reasons(catalog, alpha_api):
    body = alpha_api.get("/api/v1/agents/recommend/", {"q": QUESTION, "k": 4}).json()
    assert body["query"] == QUESTION and len(body["results"]) == 4
    first = body["results"][0]
    assert {"agent", "score", "reasons", "role"} <= set(first) and first["agent"]["slug"]
    assert first["score"] == max(r["score"] for r in body["results"])
    assert any(r["agent"]["domain"] == "market_access" for r in body["results"])


def test_recommend_for_an_adversarial_panel_names_roles(catalog, alpha_api):
    body = alpha_api.get("/api/v1/agents/recommend/", {"q": QUESTION, "panel_type": "adversarial"}).json()
    assert {r["role"] for r in body["results"]} == {"moderator", "pro", "con"}


@pytest.mark.parametrize("params", [{}, {"q": "x"}, {"q": QUESTION, "k": 0}, {"q": QUESTION, "k": 50},
                                    {"q": QUESTION, "panel_type": "freeform"}])
def test_recommend_refuses_bad_input(catalog, alpha_api, params):
    response = alpha_api.get("/api/v1/agents/recommend/", params)
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid"


def test_preferences_round_trip(catalog, alpha_admin_api):
    body = {"preferred": {"market_access": ["germany-amnog-specialist"]}, "disabled": ["nice-hta-specialist"]}
    assert alpha_admin_api.put("/api/v1/agent-preferences/", body, format="json").status_code == 200
    assert alpha_admin_api.get("/api/v1/agent-preferences/").json() == body


@pytest.mark.parametrize(
    "body, fragment",
    [
        ({"preferred": {"astrology": ["fda-510k-specialist"]}, "disabled": []}, "'astrology' is not a domain"),
        ({"preferred": {}, "disabled": ["ghost-agent"]}, "Unknown or retired agent(s): ghost-agent"),
        ({"preferred": {"market_access": ["fda-510k-specialist"]}, "disabled": []}, "not in the market_access domain"),
        ({"preferred": {"market_access": ["germany-amnog-specialist"]}, "disabled": ["germany-amnog-specialist"]},
         "both preferred and disabled"),
        ({"preferred": ["x"], "disabled": []}, "preferred"),
    ],
)
def test_bad_preferences_are_400_and_nothing_is_written(catalog, alpha_admin_api, body, fragment):
    response = alpha_admin_api.put("/api/v1/agent-preferences/", body, format="json")
    assert response.status_code == 400 and fragment in response.json()["error"]["message"]
    with schema_context("alpha"):
        assert not AgentPreferences.objects.exists()


def test_only_tenant_admins_change_preferences(catalog, alpha_api):
    response = alpha_api.put("/api/v1/agent-preferences/", {"preferred": {}, "disabled": []}, format="json")
    assert response.status_code == 403


def test_one_tenants_preferences_never_reach_another(catalog, alpha, beta, alpha_admin_api, beta_admin_api):
    baseline = [r["agent"]["slug"] for r in beta_admin_api.get("/api/v1/agents/recommend/", {"q": QUESTION}).json()["results"]]
    alpha_admin_api.put("/api/v1/agent-preferences/", {"preferred": {}, "disabled": baseline}, format="json")
    alpha_top = [r["agent"]["slug"] for r in alpha_admin_api.get("/api/v1/agents/recommend/", {"q": QUESTION}).json()["results"]]
    assert not set(alpha_top) & set(baseline)
    assert beta_admin_api.get("/api/v1/agent-preferences/").json() == {"preferred": {}, "disabled": []}
    again = [r["agent"]["slug"] for r in beta_admin_api.get("/api/v1/agents/recommend/", {"q": QUESTION}).json()["results"]]
    assert again == baseline


def test_a_token_of_one_tenant_cannot_change_anothers_preferences(catalog, alpha, beta):
    token = make_token(alpha, make_user(alpha, "alpha-boss", is_admin=True))
    body = {"preferred": {}, "disabled": ["nice-hta-specialist"]}
    assert api_client(beta, token=token).put("/api/v1/agent-preferences/", body, format="json").status_code == 401
    assert api_client(token=token, HTTP_X_TENANT_ID="beta").put(
        "/api/v1/agent-preferences/", body, format="json").status_code == 401
    with schema_context("beta"):
        assert not AgentPreferences.objects.exists()


@pytest.mark.parametrize("path", ["/api/v1/agents/", "/api/v1/agents/fda-510k-specialist/",
                                  f"/api/v1/agents/recommend/?q={QUESTION}", "/api/v1/agent-preferences/"])
def test_every_agents_endpoint_requires_authentication(catalog, alpha, path):
    assert api_client(alpha).get(path).status_code == 401
