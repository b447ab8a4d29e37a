"""The ask page: type cards, recommended experts, catalog search, estimate, submitting."""

import re

import pytest
from django_tenants.utils import schema_context

from panels.lifecycle import Status
from panels.models import Panel
from panels.selectors import panel_estimate
from panels.services import QUERY_MAX, QUERY_MIN
from tests.conftest import make_user, page_client
from tests.panels.pages import QUESTION, experts, make_panel

pytestmark = pytest.mark.django_db


def radio(page: str, panel_type: str) -> str:
    """The <input> tag of a panel type's card."""
    return re.search(r'<input type="radio" name="panel_type" value="%s"[^>]*>' % panel_type, page).group(0)


def panel_count(tenant) -> int:
    with schema_context(tenant.schema_name):
        return Panel.objects.count()


def test_anonymous_is_sent_to_sign_in(alpha):
    response = page_client(alpha).get("/panels/new/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_form_has_labelled_inputs_and_the_apis_length_limits(alpha, alpha_user):
    page = page_client(alpha, alpha_user).get("/panels/new/?q=Prefilled question").content.decode()
    assert "<title>Ask a panel" in page
    assert f'minlength="{QUERY_MIN}" maxlength="{QUERY_MAX}"' in page
    assert '<label for="id_query">' in page and ">Prefilled question</textarea>" in page
    assert 'hx-get="/panels/new/recommended/"' in page and "delay:400ms" in page


def test_types_the_plan_lacks_are_shown_disabled_with_the_reason(beta, beta_user):
    page = page_client(beta, beta_user).get("/panels/new/").content.decode()
    assert 'value="delphi"' in page
    assert " disabled " in radio(page, "delphi") and " disabled " not in radio(page, "structured")
    assert "Not included in your plan (starter); available on professional, enterprise." in page


def test_submitting_creates_the_panel_and_goes_to_its_page(alpha, alpha_user, catalog):
    chosen = experts(3)
    response = page_client(alpha, alpha_user).post("/panels/new/", {
        "query": QUESTION, "panel_type": "open", "experts": chosen, "max_rounds": "2"})
    with schema_context("alpha"):
        panel = Panel.objects.get()
        assert response.status_code == 302 and response["Location"] == f"/panels/{panel.pk}/"
        assert panel.panel_type == "open" and panel.status == Status.QUEUED and panel.owner == alpha_user
        assert [m.agent.slug for m in panel.members.order_by("seat")] == chosen


def test_a_too_short_question_is_refused_on_the_form_and_nothing_is_written(alpha, alpha_user):
    response = page_client(alpha, alpha_user).post("/panels/new/", {"query": "Why?", "panel_type": "open"})
    assert response.status_code == 400
    assert f"at least {QUERY_MIN} characters" in response.content.decode()
    assert panel_count(alpha) == 0


def test_the_services_refusal_is_shown_on_its_field(alpha, alpha_user, catalog):
    response = page_client(alpha, alpha_user).post("/panels/new/", {
        "query": QUESTION, "panel_type": "open", "experts": experts(1)})
    page = response.content.decode()
    assert response.status_code == 400
    assert "A open panel needs 3 to 8 experts; you chose 1." in page
    assert 'name="experts" value="%s"' % experts(1)[0] in page  # the choice is kept
    assert panel_count(alpha) == 0


def test_a_type_the_plan_does_not_include_is_refused(beta, beta_user, catalog):
    response = page_client(beta, beta_user).post("/panels/new/", {
        "query": QUESTION, "panel_type": "delphi", "experts": experts(3)})
    assert response.status_code == 400
    assert "Delphi" in response.content.decode() and "not enabled for your plan" in response.content.decode()
    assert panel_count(beta) == 0


def test_recommended_experts_come_with_score_and_reasons(alpha, alpha_user, catalog):
    response = page_client(alpha, alpha_user).get("/panels/new/recommended/", {
        "query": "Which pharmacovigilance signals must we report to the FDA?", "panel_type": "adversarial"})
    page = response.content.decode()
    assert response.status_code == 200
    assert 3 <= page.count('class="button secondary small add-expert"') <= 6  # the type's minimum, then the relevant
    assert "score 0." in page or "score 1." in page
    assert 'data-slug="' in page
    assert page.count('<ul class="reasons small muted"><li>Profile matches the question (relevance') \
        == page.count('class="button secondary small add-expert"')
    assert "Moderates the debate" in page


def test_no_recommendation_for_a_question_too_short(alpha, alpha_user):
    page = page_client(alpha, alpha_user).get("/panels/new/recommended/", {"query": "FDA"}).content.decode()
    assert "add-expert" not in page and f"{QUERY_MIN}+ characters" in page


def test_catalog_search_finds_experts_to_add(alpha, alpha_user, catalog):
    from agents.models import Agent

    agent = Agent.objects.filter(is_active=True).order_by("slug").first()
    page = page_client(alpha, alpha_user).get("/panels/new/catalog/", {"expert_search": agent.name}).content.decode()
    assert f'data-slug="{agent.slug}"' in page


def test_the_estimate_follows_the_form(alpha, alpha_user, catalog):
    client = page_client(alpha, alpha_user)
    small = client.get("/panels/new/estimate/", {"query": QUESTION, "panel_type": "open", "experts": experts(3),
                                                   "max_rounds": "1"}).content.decode()
    large = client.get("/panels/new/estimate/", {"query": QUESTION, "panel_type": "open", "experts": experts(6),
                                                   "max_rounds": "3"}).content.decode()
    with schema_context("alpha"):
        from tenants.context import current_tenant

        expected = panel_estimate(tenant=current_tenant(), query=QUESTION, panel_type="open", experts=3, max_rounds=1)
    assert f"About <strong>{expected['tokens']}</strong> tokens" in small
    assert "3 experts, 1 round." in small and "6 experts, 3 rounds." in large


def test_estimate_grows_with_experts_and_rounds_and_prices_known_models(alpha):
    from tenants.billing.models import Price

    with schema_context("alpha"):  # the estimate reads the tenant's own panels (history, reservations)
        small = panel_estimate(tenant=alpha, query=QUESTION, panel_type="structured", experts=2, max_rounds=1)
        more_experts = panel_estimate(tenant=alpha, query=QUESTION, panel_type="structured", experts=4, max_rounds=1)
        more_rounds = panel_estimate(tenant=alpha, query=QUESTION, panel_type="structured", experts=2, max_rounds=3)
        assert small["tokens"] < more_experts["tokens"] and small["tokens"] < more_rounds["tokens"]
        assert small["calls"] == 2 + 1  # two turns and the chair
        assert small["cost"] == 0.0  # the offline model has a price: zero
        Price.objects.filter(provider="offline").delete()  # a model missing from the price table
        assert panel_estimate(tenant=alpha, query=QUESTION, panel_type="structured")["cost"] is None


def test_a_follow_up_keeps_the_question_type_and_experts(alpha, alpha_user, catalog):
    previous = make_panel(alpha, alpha_user, panel_type="open", status=Status.COMPLETED)
    page = page_client(alpha, alpha_user).get(f"/panels/new/?from={previous.pk}").content.decode()
    assert QUESTION in page
    assert all(f'name="experts" value="{slug}"' in page for slug in experts(3))
    assert " checked " in radio(page, "open") and " checked " not in radio(page, "structured")


def test_a_follow_up_of_someone_elses_panel_is_404(alpha, alpha_user, catalog):
    theirs = make_panel(alpha, make_user(alpha, "carol"))
    assert page_client(alpha, alpha_user).get(f"/panels/new/?from={theirs.pk}").status_code == 404
