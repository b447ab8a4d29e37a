"""Private experts in the browser: an admin of acme (with `custom_agents` turned on) opens
the experts page, creates a private expert with the form, and finds it listed first as private."""

import pytest
from django_tenants.utils import schema_context

from tests.browser.conftest import screenshot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SLUG = "our-lyophilisation-lead"


@pytest.fixture
def acme_private_experts(acme):
    from agents.tenant.models import CustomAgent
    from tenants.services import tenant_update_configuration

    before = dict(acme.tenant.features)  # the site's own overrides (e.g. hybrid) stay
    tenant_update_configuration(tenant=acme.tenant, features={**before, "custom_agents": True})
    yield acme
    with schema_context("acme"):
        CustomAgent.objects.filter(slug=SLUG).delete()
    tenant_update_configuration(tenant=acme.tenant, features=before)


def test_an_admin_creates_a_private_expert_and_sees_it_listed_as_private(page, acme_private_experts, catalog):
    acme = acme_private_experts
    sign_in(page, acme)
    page.goto(acme.url("/experts/"))
    page.get_by_role("link", name="New private expert").click()
    page.wait_for_url("**/experts/private/new/")

    page.fill("#id_slug", SLUG)
    page.fill("#id_name", "Dr. Mara Quist")
    page.fill("#id_title", "Lyophilisation Cycle Development Lead")
    page.select_option("#id_domain", "cmc_quality")
    page.fill("#id_business_function", "CMC")
    page.select_option("#id_disposition", "skeptic")
    page.fill("#id_capabilities", "Designs freeze-drying cycles for biologics vials\n"
                                  "Scales lyophilisation cycles from pilot to commercial freeze dryers")
    page.fill("#id_knowledge_domains", "Lyophilisation of monoclonal antibodies")
    page.fill("#id_system_prompt", "You are our lyophilisation lead.")
    page.get_by_role("button", name="Create the expert").click()

    page.wait_for_url(f"**/experts/{SLUG}/")
    assert "Created the private expert Dr. Mara Quist." in page.inner_text(".messages")
    assert page.locator("h1 .badge.private").inner_text() == "private"

    page.goto(acme.url("/experts/"))
    card = page.locator(f'#private-experts article:has(a[href="/experts/{SLUG}/"])')
    assert card.locator(".badge.private").inner_text() == "private"
    assert "Lyophilisation Cycle Development Lead" in card.inner_text()
    assert page.watched.errors == []
    screenshot(page, "private-experts", full_page=False)
