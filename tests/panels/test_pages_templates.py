"""The template pages: the list (shared and personal, favourites first, the buttons a user
may use), "Save as template" on a report, editing and deleting by the owner or a tenant
admin only, the Ask page's templates and its `?template=` prefill, and each page scoped to
its tenant."""

import re

import pytest
from django_tenants.utils import schema_context

from agents.models import Agent
from panels.lifecycle import Status
from panels.models import PanelTemplate
from panels.template_services import template_create
from tests.conftest import make_user, page_client, tenant_domain
from tests.panels.pages import experts, make_panel

pytestmark = pytest.mark.django_db

QUESTION_TEMPLATE = "Should we file a De Novo or a 510(k) for {product}?"


def make_template(tenant, user, **fields):
    data = {"name": "Device pathway review", "panel_type": "structured", "experts": experts(3), "max_rounds": 2,
            "question_template": QUESTION_TEMPLATE, "shared": True, **fields}
    with schema_context(tenant.schema_name):
        return template_create(user=user, data=data)


def stored(schema_name="alpha") -> list[str]:
    with schema_context(schema_name):
        return list(PanelTemplate.objects.order_by("name").values_list("name", flat=True))


@pytest.fixture
def carol(alpha):
    return make_user(alpha, "carol")


# --- the list ------------------------------------------------------------------------

def test_anonymous_is_sent_to_sign_in(alpha):
    response = page_client(alpha).get("/panels/templates/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_list_shows_shared_and_own_templates_with_their_buttons(catalog, alpha, alpha_user, carol):
    shared = make_template(alpha, alpha_user, name="Shared review")
    make_template(alpha, alpha_user, name="Alice private review", shared=False)
    mine = make_template(alpha, carol, name="Carol review", shared=False)
    page = page_client(alpha, carol).get("/panels/templates/").content.decode()
    assert "Shared review" in page and "Carol review" in page and "Alice private review" not in page
    assert f'href="/panels/new/?template={shared.pk}"' in page
    assert f"/panels/templates/{mine.pk}/edit/" in page and f"/panels/templates/{mine.pk}/delete/" in page
    assert f"/panels/templates/{shared.pk}/edit/" not in page  # alice's: carol may use it, not change it
    assert f"/panels/templates/{shared.pk}/favourite/" in page


def test_favourites_come_first_and_toggle(catalog, alpha, alpha_user):
    first = make_template(alpha, alpha_user, name="A first")
    second = make_template(alpha, alpha_user, name="B second")
    client = page_client(alpha, alpha_user)
    response = client.post(f"/panels/templates/{second.pk}/favourite/", {"favourite": "1"})
    assert response.status_code == 302 and response["Location"] == "/panels/templates/"
    page = client.get("/panels/templates/").content.decode()
    assert page.index("B second") < page.index("A first") and "Unfavourite" in page
    client.post(f"/panels/templates/{second.pk}/favourite/", {"favourite": "0"})
    page = client.get("/panels/templates/").content.decode()
    assert page.index(first.name) < page.index(second.name) and "Unfavourite" not in page


def test_names_and_descriptions_are_escaped(catalog, alpha, alpha_user):
    make_template(alpha, alpha_user, name="<script>alert(1)</script>", description="<b>bold</b>")
    page = page_client(alpha, alpha_user).get("/panels/templates/").content.decode()
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)" in page and "<b>bold" not in page


# --- save as template, edit, delete ----------------------------------------------------

def test_a_completed_report_offers_save_as_template_and_saving_keeps_the_panels_setup(catalog, alpha, alpha_user):
    panel = make_panel(alpha, alpha_user, status=Status.COMPLETED)
    client = page_client(alpha, alpha_user)
    page = client.get(f"/panels/{panel.pk}/").content.decode()
    assert f'action="/panels/{panel.pk}/save-template/"' in page and "Save as template" in page
    response = client.post(f"/panels/{panel.pk}/save-template/", {
        "name": "From the report", "question_template": QUESTION_TEMPLATE, "shared": "on"})
    with schema_context("alpha"):
        template = PanelTemplate.objects.get()
        assert response.status_code == 302 and response["Location"] == f"/panels/templates/?saved={template.pk}"
        assert template.experts == [m.agent.slug for m in panel.members.order_by("seat")]
        assert template.panel_type == "structured" and template.max_rounds == panel.max_rounds and template.shared
        assert template.owner == alpha_user


def test_saving_with_a_broken_placeholder_shows_the_error_on_its_field(catalog, alpha, alpha_user):
    panel = make_panel(alpha, alpha_user, status=Status.COMPLETED)
    response = page_client(alpha, alpha_user).post(f"/panels/{panel.pk}/save-template/", {
        "name": "Broken", "question_template": "For {product, what now?"})
    assert response.status_code == 400 and "unmatched" in response.content.decode()
    assert stored() == []


def test_the_owner_edits_a_template(catalog, alpha, alpha_user):
    template = make_template(alpha, alpha_user)
    client = page_client(alpha, alpha_user)
    page = client.get(f"/panels/templates/{template.pk}/edit/").content.decode()
    assert 'value="Device pathway review"' in page and experts(3)[0] in page
    response = client.post(f"/panels/templates/{template.pk}/edit/", {
        "name": "Renamed", "panel_type": "open", "experts": "\n".join(experts(4)), "max_rounds": "1",
        "question_template": "", "description": "Now open."})
    assert response.status_code == 302
    with schema_context("alpha"):
        template.refresh_from_db()
        assert (template.name, template.panel_type, template.experts, template.shared) == (
            "Renamed", "open", experts(4), False)


def test_an_invalid_edit_names_the_field(catalog, alpha, alpha_user):
    template = make_template(alpha, alpha_user)
    response = page_client(alpha, alpha_user).post(f"/panels/templates/{template.pk}/edit/", {
        "name": "Renamed", "panel_type": "structured", "experts": "no-such-expert\nghost-two\nghost-three"})
    assert response.status_code == 400 and "Unknown or retired expert(s): no-such-expert" in response.content.decode()
    assert stored() == ["Device pathway review"]


def test_a_member_cannot_edit_or_delete_anothers_template(catalog, alpha, alpha_user, carol):
    template = make_template(alpha, alpha_user)
    client = page_client(alpha, carol)
    refused = client.get(f"/panels/templates/{template.pk}/edit/")
    assert refused.status_code == 403 and "Only alice" in refused.content.decode()
    edited = client.post(f"/panels/templates/{template.pk}/edit/", {"name": "Mine", "panel_type": "open"})
    assert edited.status_code == 403
    deleted = client.post(f"/panels/templates/{template.pk}/delete/")
    assert deleted.status_code == 403 and "Only alice" in deleted.content.decode()
    assert stored() == ["Device pathway review"]


def test_a_tenant_admin_deletes_anyones_shared_template(catalog, alpha, alpha_user, admin):
    template = make_template(alpha, alpha_user)
    response = page_client(alpha, admin).post(f"/panels/templates/{template.pk}/delete/")
    assert response.status_code == 302 and stored() == []


# --- the ask page ----------------------------------------------------------------------

def test_the_ask_page_lists_templates_favourites_first(catalog, alpha, alpha_user):
    make_template(alpha, alpha_user, name="A plain one")
    favourite = make_template(alpha, alpha_user, name="B favourite")
    with schema_context("alpha"):
        favourite.favourite_of.add(alpha_user)
    page = page_client(alpha, alpha_user).get("/panels/new/").content.decode()
    assert "Start from a template" in page and 'name="template"' in page
    assert page.index("★ B favourite") < page.index("A plain one")


def test_template_prefills_the_ask_form(catalog, alpha, alpha_user):
    template = make_template(alpha, alpha_user, panel_type="open", experts=experts(4), max_rounds=1)
    page = page_client(alpha, alpha_user).get(f"/panels/new/?template={template.pk}").content.decode()
    assert f">{QUESTION_TEMPLATE}</textarea>" in page and "Filled from <strong>Device pathway review</strong>" in page
    assert "checked" in re.search(r'<input type="radio" name="panel_type" value="open"[^>]*>', page).group(0)
    assert all(f'name="experts" value="{slug}"' in page for slug in experts(4))
    assert 'name="max_rounds" id="id_max_rounds" min="1" max="10" value="1"' in page
    assert "<code>{product}</code>" in page


def test_a_template_with_a_retired_expert_proposes_a_replacement_on_the_ask_page(catalog, alpha, alpha_user):
    template = make_template(alpha, alpha_user)
    retired = template.experts[0]
    Agent.objects.filter(slug=retired).update(is_active=False)
    page = page_client(alpha, alpha_user).get(f"/panels/new/?template={template.pk}").content.decode()
    assert f"{retired} (retired from the catalog)" in page and "Proposed in their place" in page
    assert f'name="experts" value="{retired}"' not in page
    assert page.count('<input type="hidden" name="experts"') == 3 + 1  # two kept, one replacement, the <template>


# --- tenants -------------------------------------------------------------------------

def test_every_template_page_is_404_on_another_tenants_host(catalog, alpha, alpha_user, beta, beta_user):
    template = make_template(alpha, alpha_user)
    panel = make_panel(alpha, alpha_user, status=Status.COMPLETED)
    client = page_client(beta, beta_user)
    assert client.get(f"/panels/templates/{template.pk}/edit/").status_code == 404
    assert client.post(f"/panels/templates/{template.pk}/delete/").status_code == 404
    assert client.post(f"/panels/templates/{template.pk}/favourite/", {"favourite": "1"}).status_code == 404
    assert client.get(f"/panels/new/?template={template.pk}").status_code == 404
    assert client.post(f"/panels/{panel.pk}/save-template/", {"name": "Stolen"}).status_code == 404
    assert "Device pathway review" not in client.get("/panels/templates/").content.decode()
    assert "Device pathway review" not in client.get("/panels/new/").content.decode()
    assert stored() == ["Device pathway review"] and stored("beta") == []


def test_the_same_id_shows_each_tenant_its_own_template(catalog, alpha, alpha_user, beta, beta_user):
    mine = make_template(alpha, alpha_user, name="Alpha review")
    with schema_context("beta"):
        PanelTemplate.objects.create(pk=mine.pk, name="Beta review", panel_type="structured", owner=beta_user,
                                     shared=True)
    alpha_page = page_client(alpha, alpha_user).get(f"/panels/templates/{mine.pk}/edit/").content.decode()
    beta_page = page_client(beta, beta_user).get(f"/panels/templates/{mine.pk}/edit/").content.decode()
    assert "Alpha review" in alpha_page and "Beta review" not in alpha_page
    assert "Beta review" in beta_page and "Alpha review" not in beta_page


def test_a_session_of_alpha_does_not_open_betas_pages(alpha, alpha_user, beta):
    client = page_client(alpha, alpha_user, host=tenant_domain("beta"))
    response = client.get("/panels/templates/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
