"""Saved panel templates on the API: saved, listed (shared and personal, favourites first),
replaced and deleted by their owner or a tenant admin, validated field by field; a panel
started from one with the user's overrides; retired or disabled experts refused with
replacements; and every template endpoint scoped to its own tenant."""

import pytest
from django_tenants.utils import schema_context

from agents.models import Agent
from agents.tenant.services import preferences_set
from panels.models import Panel, PanelTemplate
from tests.conftest import api_client, make_token, make_user
from tests.panels.pages import experts

pytestmark = pytest.mark.django_db

QUESTION_TEMPLATE = "Should we file a De Novo or a 510(k) for {product}, given {evidence}?"


def body(**fields) -> dict:
    return {"name": "Device pathway review", "description": "Our standard regulatory panel.",
            "panel_type": "structured", "experts": experts(3), "max_rounds": 2,
            "question_template": QUESTION_TEMPLATE, "shared": True, **fields}


def client_for(tenant, user):
    return api_client(tenant, token=make_token(tenant, user))


def listed(client, key: str = "id") -> list:
    return [template[key] for template in client.get("/api/v1/panel-templates/").json()["results"]]


def save(client, **fields) -> dict:
    response = client.post("/api/v1/panel-templates/", body(**fields), format="json")
    assert response.status_code == 201, response.json()
    return response.json()


@pytest.fixture
def alice(alpha_user):
    return alpha_user


@pytest.fixture
def alice_api(alpha, alice):
    return client_for(alpha, alice)


@pytest.fixture
def carol_api(alpha):
    return client_for(alpha, make_user(alpha, "carol"))


@pytest.fixture
def admin_api(alpha, admin):
    return client_for(alpha, admin)


# --- saving, reading, replacing, deleting ----------------------------------------------

def test_a_saved_template_is_read_back_with_its_placeholders(catalog, alice_api):
    saved = save(alice_api)
    assert saved["name"] == "Device pathway review" and saved["owner"] == "alice"
    assert saved["experts"] == experts(3) and saved["max_rounds"] == 2 and saved["shared"] is True
    assert saved["placeholders"] == ["product", "evidence"] and saved["can_edit"] is True
    assert saved["unavailable_experts"] == [] and saved["is_favourite"] is False
    assert alice_api.get(f"/api/v1/panel-templates/{saved['id']}/").json() == saved


def test_everyone_sees_shared_templates_and_only_their_own_personal_ones(catalog, alice_api, carol_api):
    shared = save(alice_api, name="Shared one")
    personal = save(alice_api, name="Alice's own", shared=False)
    assert listed(alice_api, "name") == ["Alice's own", "Shared one"]
    assert listed(carol_api, "id") == [shared["id"]]
    refused = carol_api.get(f"/api/v1/panel-templates/{personal['id']}/")
    assert refused.status_code == 404 and refused.json()["error"]["code"] == "not_found"


def test_the_owner_replaces_every_field(catalog, alice_api):
    saved = save(alice_api)
    response = alice_api.put(f"/api/v1/panel-templates/{saved['id']}/",
                             {"name": "Renamed", "panel_type": "open", "experts": experts(4)}, format="json")
    assert response.status_code == 200
    replaced = response.json()
    assert replaced["name"] == "Renamed" and replaced["panel_type"] == "open" and replaced["experts"] == experts(4)
    assert replaced["question_template"] == "" and replaced["shared"] is False and replaced["max_rounds"] is None


def test_a_member_cannot_change_or_delete_anothers_template(catalog, alice_api, carol_api):
    saved = save(alice_api)
    for response in (carol_api.put(f"/api/v1/panel-templates/{saved['id']}/", body(name="Mine now"), format="json"),
                     carol_api.delete(f"/api/v1/panel-templates/{saved['id']}/")):
        assert response.status_code == 403
        error = response.json()["error"]
        assert error["code"] == "not_template_owner" and "alice" in error["message"]
    assert carol_api.get(f"/api/v1/panel-templates/{saved['id']}/").json()["can_edit"] is False
    with schema_context("alpha"):
        assert PanelTemplate.objects.get(pk=saved["id"]).name == "Device pathway review"


def test_a_tenant_admin_changes_and_deletes_anyones_shared_template(catalog, alice_api, admin_api):
    saved = save(alice_api)
    assert admin_api.get(f"/api/v1/panel-templates/{saved['id']}/").json()["can_edit"] is True
    replaced = admin_api.put(f"/api/v1/panel-templates/{saved['id']}/", body(name="Fixed"), format="json")
    assert replaced.status_code == 200
    assert admin_api.delete(f"/api/v1/panel-templates/{saved['id']}/").status_code == 204
    assert alice_api.get(f"/api/v1/panel-templates/{saved['id']}/").status_code == 404


def test_the_owner_deletes_a_template(catalog, alice_api):
    saved = save(alice_api, shared=False)
    assert alice_api.delete(f"/api/v1/panel-templates/{saved['id']}/").status_code == 204
    with schema_context("alpha"):
        assert not PanelTemplate.objects.exists()


# --- validation: each refusal names its field ----------------------------------------

@pytest.mark.parametrize("fields, field, words", [
    ({"name": ""}, "name", "blank"),
    ({"name": "x" * 201}, "name", "200"),
    ({"panel_type": "tea-party"}, "panel_type", "not a valid choice"),
    ({"panel_type": "structured", "max_rounds": 0}, "max_rounds", "greater than or equal to 1"),
    ({"experts": ["not a slug!"]}, "experts", "slug"),
])
def test_malformed_fields_are_refused_by_name(catalog, alice_api, fields, field, words):
    response = alice_api.post("/api/v1/panel-templates/", body(**fields), format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid" and field in error["details"]["fields"] and words in error["message"]


@pytest.mark.parametrize("fields, field, words", [
    ({"panel_type": "hybrid"}, "panel_type", "not enabled for your plan (professional)"),
    ({"panel_type": "structured", "max_rounds": 9}, "max_rounds", "runs 1 to"),
    ({"experts": ["no-such-expert", "another-ghost", "third-ghost"]}, "experts", "Unknown or retired expert(s)"),
    ({"experts": ["adversarial-one"][:1]}, "experts", "needs"),
    ({"documents": [987654]}, "documents", "Unknown document(s): 987654"),
    ({"question_template": "For {product, what now?"}, "question_template", "unmatched"),
    ({"question_template": "Is {0} or {product!r} wise?"}, "question_template", "is not a placeholder"),
    ({"question_template": "Is {product.name} wise?"}, "question_template", "is not a placeholder"),
])
def test_rules_are_refused_with_the_field_named(catalog, alice_api, fields, field, words):
    response = alice_api.post("/api/v1/panel-templates/", body(**fields), format="json")
    assert response.status_code == 400, response.json()
    error = response.json()["error"]
    assert error["code"] == "invalid_template" and error["details"]["field"] == field and words in error["message"]
    with schema_context("alpha"):
        assert not PanelTemplate.objects.exists()


def test_literal_braces_are_allowed_in_a_question_template(catalog, alice_api):
    saved = save(alice_api, question_template="Is a {{sealed}} pouch enough for {product}?")
    assert saved["placeholders"] == ["product"]


def test_a_retired_expert_cannot_be_saved(catalog, alice_api):
    chosen = experts(3)
    Agent.objects.filter(slug=chosen[0]).update(is_active=False)
    response = alice_api.post("/api/v1/panel-templates/", body(experts=chosen), format="json")
    assert response.status_code == 400 and response.json()["error"]["details"]["unknown"] == [chosen[0]]


# --- favourites ----------------------------------------------------------------------

def test_favourites_are_per_user_and_listed_first(catalog, alice_api, carol_api):
    first = save(alice_api, name="A first")
    second = save(alice_api, name="B second")
    marked = carol_api.post(f"/api/v1/panel-templates/{second['id']}/favourite/")
    assert marked.status_code == 200 and marked.json()["is_favourite"] is True
    assert listed(carol_api, "id") == [second["id"], first["id"]]
    assert listed(alice_api, "id") == [first["id"], second["id"]]
    assert carol_api.post(f"/api/v1/panel-templates/{second['id']}/favourite/").status_code == 200  # idempotent
    unmarked = carol_api.delete(f"/api/v1/panel-templates/{second['id']}/favourite/")
    assert unmarked.status_code == 200 and unmarked.json()["is_favourite"] is False
    assert listed(carol_api, "id") == [first["id"], second["id"]]


def test_anothers_personal_template_cannot_be_favourited(catalog, alice_api, carol_api):
    personal = save(alice_api, shared=False)
    assert carol_api.post(f"/api/v1/panel-templates/{personal['id']}/favourite/").status_code == 404


# --- starting a panel from a template ------------------------------------------------

def test_a_panel_starts_from_a_template_with_its_question_filled_in(catalog, alice_api):
    saved = save(alice_api, documents=[])
    response = alice_api.post("/api/v1/panels/", {
        "template": saved["id"], "values": {"product": "our ECG patch", "evidence": "a 2,000-patient study"}},
        format="json")
    assert response.status_code == 201, response.json()
    panel = response.json()
    assert panel["query"] == "Should we file a De Novo or a 510(k) for our ECG patch, given a 2,000-patient study?"
    assert panel["panel_type"] == "structured" and panel["settings"]["max_rounds"] == 2
    assert [m["agent"]["slug"] for m in panel["members"]] == saved["experts"]


def test_the_users_overrides_win_over_the_template(catalog, alice_api):
    saved = save(alice_api)
    question = "Which pathway fits a wearable ECG patch with a novel algorithm?"
    response = alice_api.post("/api/v1/panels/", {
        "template": saved["id"], "query": question, "panel_type": "open", "experts": experts(4), "max_rounds": 1},
        format="json")
    assert response.status_code == 201, response.json()
    panel = response.json()
    assert panel["query"] == question and panel["panel_type"] == "open" and panel["settings"]["max_rounds"] == 1
    assert [m["agent"]["slug"] for m in panel["members"]] == experts(4)


def test_a_placeholder_left_empty_is_refused_by_name(catalog, alice_api):
    saved = save(alice_api)
    response = alice_api.post("/api/v1/panels/", {"template": saved["id"], "values": {"product": "our patch"}},
                              format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["details"] == {"field": "values", "missing": ["evidence"]} and "{evidence}" in error["message"]
    with schema_context("alpha"):
        assert not Panel.objects.exists()


def test_without_a_template_the_question_and_type_are_still_required(alice_api):
    response = alice_api.post("/api/v1/panels/", {"experts": ["a-b"]}, format="json")
    assert response.status_code == 400
    assert set(response.json()["error"]["details"]["fields"]) == {"query", "panel_type"}


def test_an_unknown_template_is_404(alice_api):
    response = alice_api.post("/api/v1/panels/", {"template": 999999, "query": "A question long enough."},
                              format="json")
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


def test_retired_and_disabled_experts_are_refused_with_replacements(catalog, alice_api):
    saved = save(alice_api)
    retired, disabled, kept = saved["experts"]
    Agent.objects.filter(slug=retired).update(is_active=False)
    with schema_context("alpha"):
        preferences_set(preferred={}, disabled=[disabled])
    listed = alice_api.get(f"/api/v1/panel-templates/{saved['id']}/").json()["unavailable_experts"]
    assert listed == [{"slug": retired, "reason": "retired"}, {"slug": disabled, "reason": "disabled"}]

    response = alice_api.post("/api/v1/panels/", {"template": saved["id"], "query": "Which pathway fits our patch?"},
                              format="json")
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "template_experts_unavailable" and retired in error["message"]
    assert error["details"]["unavailable"] == listed
    replacements = [r["slug"] for r in error["details"]["replacements"]]
    assert len(replacements) == 2 and not set(replacements) & {retired, disabled, kept}

    chosen = [kept, *replacements]
    started = alice_api.post("/api/v1/panels/", {"template": saved["id"], "query": "Which pathway fits our patch?",
                                                 "experts": chosen}, format="json")
    assert started.status_code == 201, started.json()
    assert [m["agent"]["slug"] for m in started.json()["members"]] == chosen


# --- tenants -------------------------------------------------------------------------

def same_id_in_both(alpha_user, beta_user) -> int:
    """A template with the same id in alpha's and beta's schemas (ids collide across schemas)."""
    with schema_context("alpha"):
        mine = PanelTemplate.objects.create(name="Alpha's template", panel_type="structured", owner=alpha_user,
                                            shared=True)
    with schema_context("beta"):
        PanelTemplate.objects.create(pk=mine.pk, name="Beta's template", panel_type="structured", owner=beta_user,
                                     shared=True)
    return mine.pk


def test_each_tenant_sees_its_own_template_under_the_same_id(alpha_user, beta_user, alpha_api, beta_api):
    template_id = same_id_in_both(alpha_user, beta_user)
    assert alpha_api.get(f"/api/v1/panel-templates/{template_id}/").json()["name"] == "Alpha's template"
    assert beta_api.get(f"/api/v1/panel-templates/{template_id}/").json()["name"] == "Beta's template"
    assert listed(beta_api, "name") == ["Beta's template"]


def test_alphas_template_id_on_betas_host_is_404(catalog, alice_api, beta_api):
    saved = save(alice_api)
    for method in ("get", "put", "delete"):
        response = getattr(beta_api, method)(f"/api/v1/panel-templates/{saved['id']}/", body(), format="json")
        assert response.status_code == 404, method
    assert beta_api.post(f"/api/v1/panel-templates/{saved['id']}/favourite/").status_code == 404
    started = beta_api.post("/api/v1/panels/", {"template": saved["id"], "values": {"product": "x", "evidence": "y"}},
                            format="json")
    assert started.status_code == 404
    with schema_context("alpha"):
        assert PanelTemplate.objects.get(pk=saved["id"]).name == "Device pathway review"


def test_alphas_token_on_betas_host_is_refused(alpha, beta, alpha_user):
    token = make_token(alpha, alpha_user)
    response = api_client(beta, token=token).get("/api/v1/panel-templates/")
    assert response.status_code == 401 and response.json()["error"]["code"]


def test_x_tenant_id_naming_another_tenant_is_refused(alpha, alpha_user):
    token = make_token(alpha, alpha_user)
    response = api_client(alpha, token=token, HTTP_X_TENANT_ID="beta").get("/api/v1/panel-templates/")
    assert response.status_code == 403 and response.json()["error"]["code"]
    via_platform = api_client(token=token, HTTP_X_TENANT_ID="alpha").get("/api/v1/panel-templates/")
    assert via_platform.status_code == 200


def test_templates_need_authentication(alpha):
    for path in ("/api/v1/panel-templates/", "/api/v1/panel-templates/1/", "/api/v1/panel-templates/1/favourite/"):
        assert api_client(alpha).post(path, {}, format="json").status_code == 401


def test_a_starter_tenant_saves_templates_of_its_own_types(catalog, beta, beta_api):
    saved = beta_api.post("/api/v1/panel-templates/", body(panel_type="structured"), format="json")
    assert saved.status_code == 201
    refused = beta_api.post("/api/v1/panel-templates/", body(panel_type="delphi", experts=[]), format="json")
    assert refused.status_code == 400 and refused.json()["error"]["details"]["field"] == "panel_type"
