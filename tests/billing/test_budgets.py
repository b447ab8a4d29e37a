"""Budgets before and while a panel runs: the pre-flight estimate (API and Ask page), the
429 refusal with the figures and the reset date, reservations by unfinished panels, and a
running panel stopped cleanly when the tenant's monthly budget is used up."""

import pytest
from django_tenants.utils import schema_context

from llm.models import LLMCall
from panels.models import Contribution, Panel, PanelEvent
from panels.selectors import DEFAULT_RANGE, panel_estimate
from tenants.billing.models import UsageEvent
from tenants.billing.selectors import budget_status
from tenants.services import tenant_update_configuration
from tests.conftest import api_client, make_token, page_client
from tests.factories import QUESTION, make_panel
from tests.panels.conftest import run_inline

pytestmark = pytest.mark.django_db
EXPERTS = ["fda-510k-specialist", "fda-de-novo-strategist", "samd-ai-regulatory-lead"]
BODY = {"query": QUESTION, "panel_type": "structured", "experts": EXPERTS, "max_rounds": 2}


def set_budget(tenant, **limits):
    tenant_update_configuration(tenant=tenant, limits={**tenant.limits, **limits})


def estimate_of(tenant, **options) -> dict:
    with schema_context(tenant.schema_name):
        return panel_estimate(tenant=tenant, query=QUESTION, panel_type="structured", experts=3, max_rounds=2,
                              **options)


# --- the pre-flight estimate ---------------------------------------------------------------

def test_the_estimate_has_a_default_range_and_the_budget_without_history(catalog, alpha, alpha_api):
    response = alpha_api.post("/api/v1/panels/estimate/", BODY, format="json")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["experts"] == 3 and body["rounds"] == 2 and body["calls"] == 2 * 3 + 1
    assert body["tokens"] == body["input_tokens"] + body["output_tokens"] == body["basis"]["plan_tokens"]
    tokens = body["range"]["tokens"]
    assert tokens["low"] == round(body["basis"]["plan_tokens"] * DEFAULT_RANGE[0]) or tokens["low"] < tokens["expected"]
    assert tokens["low"] < tokens["expected"] == body["tokens"] < tokens["high"]
    assert body["basis"]["history_panels"] == 0 and body["cost"] == 0.0  # the offline model is free
    budget = body["budget"]
    limit = alpha.configuration.limits.monthly_token_budget
    assert budget["tokens"] == {"limit": limit, "used": 0, "reserved": 0, "remaining": limit,
                                "estimate": body["tokens"], "fits": True}
    assert budget["fits"] is True and budget["resets_at"] == budget_status(tenant=alpha).resets_at.isoformat()
    with schema_context("alpha"):
        assert not Panel.objects.exists()  # an estimate creates nothing


def test_the_estimate_learns_from_the_tenants_completed_panels_of_the_type(catalog, alpha, alpha_user, alpha_api):
    ran = run_inline(alpha, alpha_user, panel_type="structured", experts=EXPERTS, max_rounds=2)
    assert ran.status == "COMPLETED"
    planned = ran.settings["estimate"]["plan_tokens"]
    body = alpha_api.post("/api/v1/panels/estimate/", BODY, format="json").json()
    ratio = ran.tokens_used / planned
    assert body["basis"]["history_panels"] == 1 and body["basis"]["scale"] == pytest.approx(ratio, abs=0.001)
    assert body["tokens"] == pytest.approx(body["basis"]["plan_tokens"] * ratio, abs=2)
    assert body["range"]["tokens"]["low"] < body["tokens"] < body["range"]["tokens"]["high"]  # at least +/-10%
    # Another type has no history yet: the default range.
    other = alpha_api.post("/api/v1/panels/estimate/", {**BODY, "panel_type": "open", "max_rounds": 1},
                           format="json").json()
    assert other["basis"]["history_panels"] == 0 and other["basis"]["scale"] == 1.0


@pytest.mark.parametrize("body, field", [
    ({**BODY, "query": "short"}, "query"),
    ({**BODY, "max_rounds": 9}, "max_rounds"),
    ({**BODY, "experts": ["no-such-expert", *EXPERTS[:2]]}, "experts"),
    ({**BODY, "panel_type": "nonsense"}, "panel_type"),
    ({**BODY, "documents": [999]}, "documents"),
])
def test_bad_input_to_the_estimate_is_400_with_nothing_written(catalog, alpha, alpha_api, body, field):
    response = alpha_api.post("/api/v1/panels/estimate/", body, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert set(error) == {"code", "message", "details"} and field in str(error)
    with schema_context("alpha"):
        assert not Panel.objects.exists()
    assert not UsageEvent.objects.filter(tenant=alpha).exists()


def test_the_estimate_is_the_callers_tenants_own(catalog, alpha, beta, alpha_user, alpha_api, beta_api, beta_user):
    from tests.conftest import api_client

    run_inline(alpha, alpha_user, panel_type="structured", experts=EXPERTS, max_rounds=2)
    mine = alpha_api.post("/api/v1/panels/estimate/", BODY, format="json").json()
    theirs = beta_api.post("/api/v1/panels/estimate/", BODY, format="json").json()
    assert mine["budget"]["tokens"]["used"] > 0 and mine["basis"]["history_panels"] == 1
    assert theirs["budget"]["tokens"]["used"] == 0 and theirs["basis"]["history_panels"] == 0
    # beta's token on alpha's host is refused, in the error shape.
    with schema_context("beta"):
        from rest_framework.authtoken.models import Token

        beta_token = Token.objects.get(user=beta_user).key
    crossed = api_client(alpha, token=beta_token).post("/api/v1/panels/estimate/", BODY, format="json")
    assert crossed.status_code in (401, 403) and "error" in crossed.json()


def test_the_ask_page_shows_the_range_and_the_budget_left(catalog, alpha, alpha_user):
    set_budget(alpha, monthly_token_budget=123_456)
    page = page_client(alpha, alpha_user).get("/panels/new/estimate/", {
        "query": QUESTION, "panel_type": "structured", "experts": EXPERTS, "max_rounds": "2"}).content.decode()
    estimate = estimate_of(alpha)
    assert f"Likely between {estimate['range']['tokens']['low']} and {estimate['range']['tokens']['high']} tokens" in page
    assert "Budget left this month: <strong>123456</strong> of 123456 tokens" in page
    assert f"resets on {estimate['budget']['resets_at'][:10]}" in page and "would be refused" not in page
    set_budget(alpha, monthly_token_budget=1000)
    page = page_client(alpha, alpha_user).get("/panels/new/estimate/", {
        "query": QUESTION, "panel_type": "structured", "experts": EXPERTS, "max_rounds": "2"}).content.decode()
    assert "would be refused" in page


# --- refusal before start -----------------------------------------------------------------

def test_a_panel_over_the_remaining_token_budget_is_refused_429_with_the_figures(catalog, alpha, alpha_api):
    expected = estimate_of(alpha)["tokens"]
    set_budget(alpha, monthly_token_budget=expected - 1)
    response = alpha_api.post("/api/v1/panels/", BODY, format="json")
    assert response.status_code == 429
    error = response.json()["error"]
    assert error["code"] == "budget_exceeded" and "resets on" in error["message"]
    details = error["details"]
    assert details["limit"] == "monthly_token_budget" and details["measure"] == "tokens"
    assert (details["estimate"], details["used"], details["reserved"], details["remaining"], details["value"]) == \
        (expected, 0, 0, expected - 1, expected - 1)
    assert details["resets_at"] == budget_status(tenant=alpha).resets_at.isoformat()
    assert 0 < details["retry_after_seconds"] <= 31 * 86400
    with schema_context("alpha"):
        assert not Panel.objects.exists()
    set_budget(alpha, monthly_token_budget=expected)  # exactly enough: admitted
    assert alpha_api.post("/api/v1/panels/", BODY, format="json").status_code == 201


def test_a_panel_over_the_remaining_cost_budget_is_refused(catalog, alpha, alpha_api):
    from tenants.billing.models import Price

    Price.objects.update_or_create(provider="offline", model=estimate_of(alpha)["model"],
                                   defaults={"input_per_million": 1000, "output_per_million": 1000})
    cost = estimate_of(alpha)["cost"]
    assert cost > 1
    set_budget(alpha, monthly_cost_budget_usd=1)
    response = alpha_api.post("/api/v1/panels/", BODY, format="json")
    assert response.status_code == 429
    details = response.json()["error"]["details"]
    assert details["limit"] == "monthly_cost_budget_usd" and details["estimate"] == pytest.approx(cost)


def test_unfinished_panels_reserve_their_estimate(catalog, alpha, alpha_user, alpha_api):
    expected = estimate_of(alpha)["tokens"]
    set_budget(alpha, monthly_token_budget=expected * 2 - 1, max_concurrent_panels=10)
    first = make_panel(alpha, alpha_user, experts=EXPERTS, max_rounds=2)  # queued, nothing spent yet
    assert first.settings["estimate"]["tokens"] == expected
    response = alpha_api.post("/api/v1/panels/", BODY, format="json")
    assert response.status_code == 429
    details = response.json()["error"]["details"]
    assert details["reserved"] == expected and details["remaining"] == expected - 1 and details["used"] == 0
    with schema_context("alpha"):
        Panel.objects.filter(pk=first.pk).update(status="CANCELLED")  # final: its reservation is released
    assert alpha_api.post("/api/v1/panels/", BODY, format="json").status_code == 201


# --- enforced while running ------------------------------------------------------------------

def test_a_running_panel_stops_cleanly_when_the_monthly_token_budget_is_used_up(catalog, alpha, alpha_user):
    panel = make_panel(alpha, alpha_user, experts=EXPERTS, max_rounds=2)
    # Lowered after creation (a platform admin, or other panels spending): room for a few calls.
    set_budget(alpha, monthly_token_budget=4000)
    with schema_context("alpha"):
        from panels.orchestration.runner import panel_run

        panel = panel_run(panel_id=panel.pk)
        assert panel.status == "FAILED" and panel.error.startswith("budget_exhausted: ")
        assert "monthly token budget is used up" in panel.error and "resets on" in panel.error
        last = PanelEvent.objects.filter(panel=panel, kind="status").last()
        assert last.data["status"] == "failed" and last.data["reason"] == "budget_exhausted"
        spoke = Contribution.objects.filter(panel=panel).count()
        assert 0 < spoke < 2 * 3  # the transcript so far is kept
        outcomes = list(LLMCall.objects.filter(purpose=f"panel:{panel.pk}").order_by("id")
                        .values_list("outcome", flat=True))
    assert outcomes.count("ok") == spoke  # every answer that was paid for is in the transcript
    refused = outcomes.index("budget_exceeded")
    assert "ok" not in outcomes[refused:]  # no call was made after the refusal
    used = budget_status(tenant=alpha).tokens.used
    assert 0 < used <= 4000  # never billed beyond the limit
    assert used == panel.tokens_used


def test_a_panel_is_not_started_when_the_budget_is_already_used_up(catalog, alpha, alpha_user):
    panel = make_panel(alpha, alpha_user, experts=EXPERTS, max_rounds=1)
    set_budget(alpha, monthly_token_budget=1)
    from tenants.billing.services import usage_record

    usage_record(tenant=alpha, kind="llm_call", key="test:spent", input_tokens=5)
    with schema_context("alpha"):
        from panels.orchestration.runner import panel_run

        panel = panel_run(panel_id=panel.pk)
        assert panel.status == "FAILED" and panel.error.startswith("budget_exhausted: ")
        assert not LLMCall.objects.filter(purpose=f"panel:{panel.pk}").exists()  # not even a refused call


def test_the_estimate_takes_a_template_like_creating_does(alpha, alpha_user, catalog):
    from panels.template_services import template_create

    api = api_client(alpha, token=make_token(alpha, alpha_user))
    with schema_context("alpha"):
        template = template_create(user=alpha_user, data={
            "name": "Device pathway", "panel_type": "open", "experts": ["fda-510k-specialist", "fda-de-novo-strategist",
                                                                         "samd-ai-regulatory-lead"],
            "max_rounds": 1, "question_template": "Should we file a De Novo or a 510(k) for {product}?"})
    from_template = api.post("/api/v1/panels/estimate/", {"template": template.pk, "values": {"product": "our ECG AI"}},
                             format="json")
    assert from_template.status_code == 200, from_template.content
    spelled_out = api.post("/api/v1/panels/estimate/", {
        "query": "Should we file a De Novo or a 510(k) for our ECG AI?", "panel_type": "open", "max_rounds": 1,
        "experts": ["fda-510k-specialist", "fda-de-novo-strategist", "samd-ai-regulatory-lead"]}, format="json")
    assert from_template.json() == spelled_out.json()
    assert api.post("/api/v1/panels/estimate/", {"template": 999999}, format="json").status_code == 404
