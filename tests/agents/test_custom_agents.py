"""Private experts (plans with `custom_agents`): created by tenant admins in the tenant's
schema, ranked together with the catalog, invisible to every other tenant."""

import pytest
from django_tenants.utils import schema_context

from agents.ranking import rank_agents
from agents.tenant.models import CustomAgent
from tenants.services import tenant_update_configuration
from tests.conftest import api_client, make_token
from tests.factories import make_user

pytestmark = pytest.mark.django_db

EXPERT = {
    "slug": "our-lyophilisation-lead",
    "name": "Dr. Mara Quist",
    "title": "Lyophilisation Cycle Development Lead",
    "domain": "cmc_quality",
    "business_function": "CMC",
    "disposition": "skeptic",
    "capabilities": ["Designs freeze-drying cycles for biologics vials, primary drying and collapse temperature",
                     "Scales lyophilisation cycles from pilot to commercial freeze dryers"],
    "knowledge_domains": ["Lyophilisation of monoclonal antibodies", "Freeze-dryer qualification"],
    "key_considerations": ["Collapse temperature sets the shelf temperature limit."],
    "system_prompt": "You are our lyophilisation lead.",
}
QUESTION = "Our freeze-drying cycle for the antibody vials collapses at scale: how do we fix primary drying?"


@pytest.fixture
def enterprise(alpha):
    tenant_update_configuration(tenant=alpha, features={"custom_agents": True})
    return alpha


def admin_api(tenant, name="ca-admin"):
    return api_client(tenant, token=make_token(tenant, make_user(tenant, name, is_admin=True)))


def test_an_admin_creates_one_and_it_is_ranked_with_the_catalog_as_private(catalog, enterprise, beta):
    api = admin_api(enterprise)
    created = api.post("/api/v1/custom-agents/", EXPERT, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["private"] is True and created.json()["slug"] == EXPERT["slug"]

    results = api.get("/api/v1/agents/recommend/", {"q": QUESTION, "k": 5}).json()["results"]
    mine = next(r for r in results if r["agent"]["slug"] == EXPERT["slug"])
    assert mine["agent"]["private"] is True
    assert "Private: one of your organisation's own experts" in mine["reasons"]
    assert all(r["agent"]["private"] is False for r in results if r["agent"]["slug"] != EXPERT["slug"])
    listed = api.get("/api/v1/agents/", {"q": "lyophilisation"}).json()["results"]
    assert listed[0]["slug"] == EXPERT["slug"] and listed[0]["private"] is True

    # Invisible elsewhere: beta's ranking, list and detail never show it.
    beta_api = admin_api(beta, "ca-beta-admin")
    assert EXPERT["slug"] not in str(beta_api.get("/api/v1/agents/recommend/", {"q": QUESTION, "k": 12}).content)
    assert beta_api.get(f"/api/v1/agents/{EXPERT['slug']}/").status_code == 404
    with schema_context("beta"):
        assert not CustomAgent.objects.exists()
        assert EXPERT["slug"] not in [r.agent.slug for r in rank_agents(question=QUESTION, k=12)]


def test_an_edit_is_in_the_next_ranking_and_a_delete_leaves_it(catalog, enterprise):
    api = admin_api(enterprise)
    api.post("/api/v1/custom-agents/", EXPERT, format="json")
    edited = {**EXPERT, "title": "Pharmacovigilance Signal Lead", "domain": "pharmacovigilance",
              "capabilities": ["Detects hepatotoxicity signals in spontaneous reports"], "knowledge_domains": []}
    assert api.put(f"/api/v1/custom-agents/{EXPERT['slug']}/", edited, format="json").status_code == 200
    results = api.get("/api/v1/agents/recommend/", {"q": QUESTION, "k": 5}).json()["results"]
    assert EXPERT["slug"] not in [r["agent"]["slug"] for r in results]
    assert api.delete(f"/api/v1/custom-agents/{EXPERT['slug']}/").status_code == 204
    assert api.get(f"/api/v1/custom-agents/{EXPERT['slug']}/").status_code == 404


@pytest.mark.parametrize("change, field", [
    ({"slug": "Not A Slug"}, "slug"),
    ({"slug": "fda-510k-specialist"}, "slug"),  # shadows a catalog expert
    ({"domain": "astrology"}, "domain"),
    ({"domain": {}}, "domain"),  # not text: was a 500 (unhashable), found by schemathesis
    ({"domain": ["regulatory"]}, "domain"),
    ({"name": ""}, "name"),
    ({"capabilities": []}, "capabilities"),
    ({"capabilities": ["x" * 501]}, "capabilities"),
    ({"disposition": "grumpy"}, "disposition"),
])
def test_bad_input_is_refused_naming_the_field_and_nothing_is_written(enterprise, change, field):
    response = admin_api(enterprise).post("/api/v1/custom-agents/", {**EXPERT, **change}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["details"]["field"] == field
    with schema_context("alpha"):
        assert not CustomAgent.objects.exists()


def test_the_slug_is_unique_and_the_count_is_limited(enterprise):
    api = admin_api(enterprise)
    assert api.post("/api/v1/custom-agents/", EXPERT, format="json").status_code == 201
    again = api.post("/api/v1/custom-agents/", EXPERT, format="json")
    assert again.status_code == 400 and again.json()["error"]["details"]["field"] == "slug"
    tenant_update_configuration(tenant=enterprise, limits={"max_custom_agents": 1})
    full = api.post("/api/v1/custom-agents/", {**EXPERT, "slug": "another-one"}, format="json")
    assert full.status_code == 429 and full.json()["error"]["details"]["limit"] == "max_custom_agents"


def test_members_read_but_cannot_write_and_plans_without_the_feature_are_refused(enterprise, beta, member):
    api = admin_api(enterprise)
    api.post("/api/v1/custom-agents/", EXPERT, format="json")
    member_api = api_client(enterprise, token=make_token(enterprise, member))
    assert [a["slug"] for a in member_api.get("/api/v1/custom-agents/").json()["results"]] == [EXPERT["slug"]]
    refused = member_api.post("/api/v1/custom-agents/", {**EXPERT, "slug": "member-made"}, format="json")
    assert refused.status_code == 403
    assert member_api.delete(f"/api/v1/custom-agents/{EXPERT['slug']}/").status_code == 403

    starter = admin_api(beta, "ca-starter-admin")  # beta is on the starter plan
    for response in (starter.get("/api/v1/custom-agents/"), starter.post("/api/v1/custom-agents/", EXPERT, format="json")):
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "feature_not_in_plan"
        assert "not included in your plan (starter)" in response.json()["error"]["message"]


def test_another_tenants_private_expert_is_unreachable(enterprise, beta):
    admin_api(enterprise).post("/api/v1/custom-agents/", EXPERT, format="json")
    with schema_context("public"):
        tenant_update_configuration(tenant=beta, features={"custom_agents": True})
    beta_api = admin_api(beta, "ca-beta-admin2")
    for response in (beta_api.get(f"/api/v1/custom-agents/{EXPERT['slug']}/"),
                     beta_api.put(f"/api/v1/custom-agents/{EXPERT['slug']}/", EXPERT, format="json"),
                     beta_api.delete(f"/api/v1/custom-agents/{EXPERT['slug']}/")):
        assert response.status_code == 404
    assert beta_api.get("/api/v1/custom-agents/").json()["results"] == []
    # alpha's token on beta's host is refused before any view runs
    alpha_token = make_token(enterprise, make_user(enterprise, "ca-cross", is_admin=True))
    crossed = api_client(beta, token=alpha_token).get("/api/v1/custom-agents/")
    assert crossed.status_code in (401, 403) and EXPERT["slug"] not in crossed.content.decode()
    with schema_context("alpha"):
        assert CustomAgent.objects.filter(slug=EXPERT["slug"]).exists()


def test_preferences_apply_to_private_experts(catalog, enterprise):
    api = admin_api(enterprise)
    api.post("/api/v1/custom-agents/", EXPERT, format="json")
    prefs = api.put("/api/v1/agent-preferences/", {"preferred": {}, "disabled": [EXPERT["slug"]]}, format="json")
    assert prefs.status_code == 200, prefs.content
    results = api.get("/api/v1/agents/recommend/", {"q": QUESTION, "k": 12}).json()["results"]
    assert EXPERT["slug"] not in [r["agent"]["slug"] for r in results]


def test_a_replace_with_a_domain_that_is_not_text_is_refused(enterprise):
    api = admin_api(enterprise)
    api.post("/api/v1/custom-agents/", EXPERT, format="json")
    response = api.put(f"/api/v1/custom-agents/{EXPERT['slug']}/", {**EXPERT, "domain": {}}, format="json")
    assert response.status_code == 400 and response.json()["error"]["details"]["field"] == "domain"


def test_a_body_that_is_not_an_object_is_refused_on_create_and_replace(enterprise):
    api = admin_api(enterprise)
    api.post("/api/v1/custom-agents/", EXPERT, format="json")
    for response in (api.post("/api/v1/custom-agents/", [None, None], format="json"),
                     api.put(f"/api/v1/custom-agents/{EXPERT['slug']}/", [None, None], format="json")):
        assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_custom_agent"
