"""Creating a panel: bad input is a 400 with nothing written; limits are 403/429 naming
the limit; experts are ranked when none are given."""

import pytest
from django_tenants.utils import schema_context

from panels.models import Panel, PanelMember
from tenants.services import tenant_update_configuration
from tests.conftest import api_client, make_token
from tests.factories import QUESTION, make_user

pytestmark = pytest.mark.django_db


def post(client, **body):
    return client.post("/api/v1/panels/", body, format="json")


def nothing_written(schema="alpha"):
    with schema_context(schema):
        return not Panel.objects.exists() and not PanelMember.objects.exists()


def test_a_panel_is_created_queued_with_ranked_experts(catalog, alpha_api, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as queued:
        response = post(alpha_api, query=QUESTION, panel_type="structured")
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "queued" and body["panel_type"] == "structured"
    assert len(body["members"]) == 4 and all(m["agent"] for m in body["members"])
    assert body["settings"]["max_rounds"] == 2
    assert len(queued) == 1  # the panel task, sent after commit


def test_hand_picked_experts_and_debate_roles(catalog, alpha_api):
    experts = ["global-regulatory-strategy-head", "fda-510k-specialist", "fda-de-novo-strategist",
               "samd-ai-regulatory-lead", "ai-clinical-validation-scientist"]
    body = post(alpha_api, query=QUESTION, panel_type="adversarial", experts=experts).json()
    assert [m["agent"]["slug"] for m in body["members"]] == experts
    roles = [m["role"] for m in body["members"]]
    assert roles.count("moderator") == 1 and "pro" in roles and "con" in roles


@pytest.mark.parametrize(
    "body, fragment",
    [
        ({"query": "Too short", "panel_type": "open"}, "10 to 5000 characters"),
        ({"query": "x" * 5001, "panel_type": "open"}, "10 to 5000 characters"),
        ({"query": QUESTION, "panel_type": "freeform"}, "panel_type"),
        ({"query": QUESTION, "panel_type": "open", "experts": ["no-such-agent", "fda-510k-specialist", "nice-hta-specialist"]},
         "Unknown or retired expert(s): no-such-agent"),
        ({"query": QUESTION, "panel_type": "delphi", "experts": ["fda-510k-specialist", "nice-hta-specialist"]},
         "A delphi panel needs 3 to 8 experts; you chose 2"),
        ({"query": QUESTION, "panel_type": "socratic", "max_rounds": 6}, "1 to 5 rounds; you asked for 6"),
        ({"query": QUESTION, "panel_type": "open", "documents": [999999]}, "Unknown or unprocessed document(s): 999999"),
        ({"panel_type": "open"}, "query"),
    ],
)
def test_bad_input_is_400_and_nothing_is_written(catalog, alpha_api, body, fragment):
    response = post(alpha_api, **body)
    assert response.status_code == 400, response.json()
    assert fragment in response.json()["error"]["message"]
    assert nothing_written()


def test_a_disabled_expert_is_refused(catalog, alpha, alpha_api):
    from agents.tenant.services import preferences_set

    with schema_context("alpha"):
        preferences_set(preferred={}, disabled=["nice-hta-specialist"])
    response = post(alpha_api, query=QUESTION, panel_type="structured",
                    experts=["nice-hta-specialist", "fda-510k-specialist"])
    assert response.status_code == 400 and "disabled: nice-hta-specialist" in response.json()["error"]["message"]
    assert nothing_written()


def test_the_tenants_expert_limit_narrows_the_type(catalog, alpha, alpha_api):
    tenant_update_configuration(tenant=alpha, limits={"max_experts_per_panel": 3})
    experts = ["fda-510k-specialist", "nice-hta-specialist", "fda-de-novo-strategist", "samd-ai-regulatory-lead"]
    response = post(alpha_api, query=QUESTION, panel_type="structured", experts=experts)
    assert response.status_code == 400 and "2 to 3 experts; you chose 4" in response.json()["error"]["message"]


def test_a_panel_type_off_for_the_plan_is_403(catalog, beta_api):
    response = post(beta_api, query=QUESTION, panel_type="delphi")
    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "panel_type_not_enabled" and "starter" in error["message"]
    assert nothing_written("beta")


def test_panels_per_month_limit_is_429_with_the_reset_date(catalog, alpha, alpha_api):
    tenant_update_configuration(tenant=alpha, limits={"max_panels_per_month": 1, "max_concurrent_panels": 5})
    assert post(alpha_api, query=QUESTION, panel_type="open").status_code == 201
    response = post(alpha_api, query=QUESTION, panel_type="open")
    assert response.status_code == 429
    error = response.json()["error"]
    assert error["details"]["limit"] == "max_panels_per_month" and "resets on" in error["message"]
    assert response["Retry-After"]


def test_concurrent_panels_limit_is_429(catalog, alpha, alpha_api):
    tenant_update_configuration(tenant=alpha, limits={"max_concurrent_panels": 1})
    assert post(alpha_api, query=QUESTION, panel_type="open").status_code == 201
    response = post(alpha_api, query=QUESTION, panel_type="open")
    assert response.status_code == 429 and response.json()["error"]["details"]["limit"] == "max_concurrent_panels"


def test_creating_needs_authentication(alpha):
    assert post(api_client(alpha), query=QUESTION, panel_type="open").status_code == 401


def test_a_token_of_another_tenant_cannot_create(catalog, alpha, beta):
    token = make_token(alpha, make_user(alpha, "alpha-creator"))
    assert post(api_client(beta, token=token), query=QUESTION, panel_type="open").status_code == 401
    assert post(api_client(token=token, HTTP_X_TENANT_ID="beta"), query=QUESTION, panel_type="open").status_code == 401
    assert nothing_written("beta")
