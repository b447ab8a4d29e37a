"""Private experts take part in panels like catalog experts; deleting one never breaks a
finished panel; another tenant cannot seat them."""

import pytest
from django_tenants.utils import schema_context

from agents.tenant.models import CustomAgent
from agents.tenant.services import custom_agent_create, custom_agent_delete
from panels.models import Contribution, Panel
from panels.orchestration.runner import panel_run
from panels.types import REGISTRY
from tenants.services import tenant_update_configuration
from tests.conftest import api_client, make_token
from tests.factories import make_panel, make_user

pytestmark = pytest.mark.django_db

PROFILE = {
    "slug": "our-stability-lead", "name": "Dr. Ines Varga", "title": "Stability Programme Lead",
    "domain": "cmc_quality", "business_function": "CMC", "disposition": "skeptic",
    "capabilities": ["Designs ICH Q1A stability programmes and shelf-life extrapolation"],
    "knowledge_domains": ["ICH Q1A(R2)", "ICH Q1E"], "key_considerations": ["Extrapolation needs real data."],
    "system_prompt": "You are our stability lead.",
}
QUESTION = "Can we extend the shelf life of our tablets to 36 months from 24 months of stability data?"


@pytest.fixture
def stability_lead(alpha, catalog):
    tenant_update_configuration(tenant=alpha, features={"custom_agents": True, "adversarial": True})
    admin = make_user(alpha, "pe-admin", is_admin=True)
    with schema_context("alpha"):
        agent = custom_agent_create(user=admin, data=PROFILE)
    return admin, agent


@pytest.mark.parametrize("panel_type", sorted(REGISTRY))
def test_a_private_expert_takes_part_in_every_panel_type(alpha, stability_lead, panel_type):
    admin, agent = stability_lead
    tenant_update_configuration(tenant=alpha, features={"custom_agents": True, panel_type: True})
    kind = REGISTRY[panel_type]
    experts = [agent.slug, "cmc-development-lead", "regulatory-cmc-specialist", "analytical-qc-specialist"]
    panel = make_panel(alpha, admin, query=QUESTION, panel_type=panel_type,
                       experts=experts[:max(kind.min_experts, 3)])
    with schema_context("alpha"):
        finished = panel_run(panel_id=panel.pk)
        if finished.status == Panel.Status.AWAITING_INPUT:  # hybrid waits for humans; go on without
            from panels.orchestration.runner import panel_input_deadline
            Panel.objects.filter(pk=panel.pk).update(input_deadline=None)
            finished = panel_input_deadline(panel_id=panel.pk)
        assert finished.status == Panel.Status.COMPLETED, finished.error
        member = finished.members.get(custom_agent=agent)
        assert member.is_private and member.display_name == "Dr. Ines Varga"
        assert Contribution.objects.filter(member=member).exists()
        assert CustomAgent.objects.get(pk=agent.pk).use_count == 1


def test_deleting_it_keeps_finished_panels_whole(alpha, stability_lead):
    admin, agent = stability_lead
    panel = make_panel(alpha, admin, query=QUESTION, panel_type="structured",
                       experts=[agent.slug, "cmc-development-lead"])
    with schema_context("alpha"):
        assert panel_run(panel_id=panel.pk).status == Panel.Status.COMPLETED
        custom_agent_delete(user=admin, agent=agent)
    api = api_client(alpha, token=make_token(alpha, admin))
    detail = api.get(f"/api/v1/panels/{panel.pk}/").json()
    member = next(m for m in detail["members"] if m["private"])
    assert (member["name"], member["title"], member["agent"]) == ("Dr. Ines Varga", "Stability Programme Lead", None)
    assert api.get(f"/api/v1/panels/{panel.pk}/export.md").status_code == 200
    assert "Dr. Ines Varga" in api.get(f"/api/v1/panels/{panel.pk}/export.md").content.decode()


def test_plans_without_the_feature_and_other_tenants_cannot_seat_it(alpha, beta, stability_lead, beta_user):
    _, agent = stability_lead
    body = {"query": QUESTION, "panel_type": "structured", "experts": [agent.slug, "cmc-development-lead"]}
    beta_api = api_client(beta, token=make_token(beta, beta_user))
    refused = beta_api.post("/api/v1/panels/", body, format="json")
    assert refused.status_code == 400 and refused.json()["error"]["details"]["unknown"] == [agent.slug]
    with schema_context("public"):
        tenant_update_configuration(tenant=alpha, features={"custom_agents": False})
    alpha_api = api_client(alpha, token=make_token(alpha, make_user(alpha, "pe-member")))
    refused = alpha_api.post("/api/v1/panels/", body, format="json")
    assert refused.status_code == 400 and refused.json()["error"]["details"]["unknown"] == [agent.slug]
