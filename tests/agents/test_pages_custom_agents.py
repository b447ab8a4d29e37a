"""Private experts on the experts pages: listed first with a "private" badge, created,
edited and deleted by tenant admins through a form whose refusals are the service's,
refused with the reason on plans without `custom_agents`, and never seen from another tenant."""

import pytest
from django_tenants.utils import schema_context

from agents.tenant.models import CustomAgent
from agents.tenant.services import custom_agent_create
from tenants.services import tenant_update_configuration
from tests.agents.test_custom_agents import EXPERT
from tests.conftest import make_user, page_client, tenant_domain

pytestmark = pytest.mark.django_db
SLUG = EXPERT["slug"]
FORM = {**{name: value for name, value in EXPERT.items() if not isinstance(value, list)},
        **{name: "\n".join(value) for name, value in EXPERT.items() if isinstance(value, list)}}
PRIVATE_URLS = ["/experts/private/new/", f"/experts/private/{SLUG}/edit/", f"/experts/private/{SLUG}/delete/"]


@pytest.fixture
def enterprise(alpha):
    tenant_update_configuration(tenant=alpha, features={"custom_agents": True})
    return alpha


@pytest.fixture
def expert(enterprise, admin):
    with schema_context("alpha"):
        return custom_agent_create(user=admin, data=EXPERT)


def stored(schema_name: str = "alpha") -> list[dict]:
    with schema_context(schema_name):
        return list(CustomAgent.objects.order_by("slug").values("slug", "title", "capabilities"))


# --- the list and the profile ----------------------------------------------------------

def test_private_experts_come_first_with_a_private_badge(catalog, enterprise, expert, admin):
    page = page_client(enterprise, admin).get("/experts/").content.decode()
    assert "Your private experts" in page
    assert page.index("Your private experts") < page.index("The catalog")
    first_catalog_expert = page.index('href="/experts/', page.index("The catalog"))
    assert page.index(f'href="/experts/{SLUG}/"') < first_catalog_expert
    assert '<span class="badge private">private</span>' in page
    assert 'href="/experts/private/new/"' in page and "New private expert" in page
    assert f'href="/experts/private/{SLUG}/edit/"' in page and f'href="/experts/private/{SLUG}/delete/"' in page
    limit = enterprise.configuration.limits.max_custom_agents
    assert f"1 of {limit} allowed by your plan" in page


def test_members_see_private_experts_without_the_admin_controls(catalog, enterprise, expert, member):
    page = page_client(enterprise, member).get("/experts/").content.decode()
    assert "Your private experts" in page and EXPERT["name"] in page and 'class="badge private"' in page
    assert "/experts/private/new/" not in page and "/edit/" not in page and "/delete/" not in page


def test_the_filters_apply_to_private_experts(catalog, enterprise, expert, member):
    client = page_client(enterprise, member)
    assert EXPERT["name"] in client.get("/experts/", {"q": "lyophilisation"}).content.decode()
    other = client.get("/experts/", {"domain": "pharmacovigilance"}).content.decode()
    assert EXPERT["name"] not in other and "None of your private experts matches these filters." in other


def test_a_plan_without_the_feature_lists_no_private_section_and_tells_admins_why(catalog, alpha, admin, member):
    admin_page = page_client(alpha, admin).get("/experts/").content.decode()
    assert "Your private experts" not in admin_page and "/experts/private/new/" not in admin_page
    assert "Private experts are not included in your plan (professional)" in admin_page
    member_page = page_client(alpha, member).get("/experts/").content.decode()
    assert "Your private experts" not in member_page and "not included in your plan" not in member_page


def test_the_profile_page_shows_a_private_expert_with_edit_and_delete_for_admins(catalog, enterprise, expert,
                                                                                 admin, member):
    response = page_client(enterprise, admin).get(f"/experts/{SLUG}/")
    page = response.content.decode()
    assert response.status_code == 200 and f"<title>{EXPERT['name']} · Experts" in page
    assert '<span class="badge private">private</span>' in page and EXPERT["title"] in page
    assert all(capability in page for capability in EXPERT["capabilities"])
    assert EXPERT["key_considerations"][0] in page and "You are our lyophilisation lead." in page
    assert f'href="/experts/private/{SLUG}/edit/"' in page and f'href="/experts/private/{SLUG}/delete/"' in page
    assert "has not used this expert yet" in page
    member_page = page_client(enterprise, member).get(f"/experts/{SLUG}/").content.decode()
    assert 'class="badge private"' in member_page and "/edit/" not in member_page


def test_an_admin_marks_a_private_expert_preferred_on_its_page(catalog, enterprise, expert, admin):
    client = page_client(enterprise, admin)
    assert client.post(f"/experts/{SLUG}/", {"mark": "preferred"}).status_code == 302
    assert "Preferred by your organisation" in client.get(f"/experts/{SLUG}/").content.decode()


def test_the_profile_of_a_private_expert_is_gone_when_the_plan_loses_the_feature(catalog, enterprise, expert, member):
    tenant_update_configuration(tenant=enterprise, features={"custom_agents": False})
    assert page_client(enterprise, member).get(f"/experts/{SLUG}/").status_code == 404


def test_a_private_experts_profile_is_escaped(catalog, enterprise, admin):
    with schema_context("alpha"):
        custom_agent_create(user=admin, data={**EXPERT, "name": "Eve <script>alert(1)</script>",
                                              "capabilities": ["<img src=x onerror=alert(1)>"],
                                              "system_prompt": "**careful** <script>alert('p')</script>"})
    page = page_client(enterprise, admin).get(f"/experts/{SLUG}/").content.decode()
    assert "Eve &lt;script&gt;" in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "<strong>careful</strong>" in page and "<script>alert" not in page and "<img src=x" not in page
    listed = page_client(enterprise, admin).get("/experts/").content.decode()
    assert "Eve &lt;script&gt;" in listed and "<script>alert" not in listed


# --- create ------------------------------------------------------------------------------

def test_an_admin_creates_a_private_expert_with_the_form(catalog, enterprise, admin):
    client = page_client(enterprise, admin)
    form = client.get("/experts/private/new/")
    page = form.content.decode()
    assert form.status_code == 200 and "<title>New private expert · Experts" in page
    for field in ("slug", "name", "title", "domain", "business_function", "disposition", "capabilities",
                  "knowledge_domains", "key_considerations", "system_prompt"):
        assert f'for="id_{field}"' in page and f'name="{field}"' in page
    assert '<textarea name="capabilities"' in page
    assert 'href="/experts/" aria-current="page"' in page  # still under Experts in the menu

    response = client.post("/experts/private/new/", {**FORM, "capabilities": FORM["capabilities"] + "\n\n  \n"})
    assert response.status_code == 302 and response["Location"] == f"/experts/{SLUG}/"
    assert stored() == [{"slug": SLUG, "title": EXPERT["title"], "capabilities": EXPERT["capabilities"]}]
    detail = client.get(response["Location"]).content.decode()
    assert f"Created the private expert {EXPERT['name']}." in detail


@pytest.mark.parametrize("change, field, message", [
    ({"slug": "Not A Slug"}, "slug", "`slug` must be lowercase words joined by hyphens"),
    ({"slug": "fda-510k-specialist"}, "slug", "is the slug of a catalog expert"),
    ({"domain": "astrology"}, "domain", "`domain` must be one of the catalog&#x27;s domains"),
    ({"name": ""}, "name", "`name` must be text of 1 to 200 characters."),
    ({"capabilities": "\n \n"}, "capabilities", "`capabilities` must be a list of 1 to 20 texts"),
    ({"capabilities": "x" * 501}, "capabilities", "`capabilities` must be a list of 1 to 20 texts"),
    ({"disposition": "grumpy"}, "disposition", "`disposition` must be one of"),
])
def test_bad_input_shows_the_message_by_its_field_and_writes_nothing(catalog, enterprise, admin, change, field,
                                                                      message):
    response = page_client(enterprise, admin).post("/experts/private/new/", {**FORM, **change})
    page = response.content.decode()
    assert response.status_code == 400
    field_group = page[page.index(f'data-field="{field}"'):]
    field_group = field_group[:field_group.find("data-field=", 1)]  # up to the next field
    assert message in field_group and 'class="errorlist' in field_group
    assert 'value="' in page and EXPERT["title"] in page  # what was typed is kept
    assert stored() == []


def test_a_taken_slug_and_the_plans_count_limit_are_refused_on_the_form(catalog, enterprise, expert, admin):
    client = page_client(enterprise, admin)
    taken = client.post("/experts/private/new/", FORM)
    assert taken.status_code == 400 and "You already have a private expert" in taken.content.decode()
    tenant_update_configuration(tenant=enterprise, limits={"max_custom_agents": 1})
    full = client.post("/experts/private/new/", {**FORM, "slug": "another-one"})
    assert full.status_code == 429
    assert "Your plan allows 1 private experts and you have 1; delete one first." in full.content.decode()
    assert [row["slug"] for row in stored()] == [SLUG]


# --- edit and delete ---------------------------------------------------------------------

def test_an_admin_edits_a_private_expert_and_its_slug_stays(catalog, enterprise, expert, admin):
    client = page_client(enterprise, admin)
    form = client.get(f"/experts/private/{SLUG}/edit/").content.decode()
    assert f"Edit {EXPERT['name']}" in form and EXPERT["capabilities"][1] in form
    assert f'value="{SLUG}"' in form and "disabled" in form[form.index('name="slug"') - 200:form.index('name="slug"') + 200]
    response = client.post(f"/experts/private/{SLUG}/edit/", {
        **FORM, "slug": "renamed", "title": "Freeze-Drying Lead", "capabilities": "Designs cycles\nScales cycles"})
    assert response.status_code == 302 and response["Location"] == f"/experts/{SLUG}/"
    assert stored() == [{"slug": SLUG, "title": "Freeze-Drying Lead", "capabilities": ["Designs cycles", "Scales cycles"]}]


def test_a_refused_edit_shows_the_message_and_changes_nothing(catalog, enterprise, expert, admin):
    response = page_client(enterprise, admin).post(f"/experts/private/{SLUG}/edit/", {**FORM, "title": ""})
    assert response.status_code == 400 and "`title` must be text of 1 to 300 characters." in response.content.decode()
    assert stored()[0]["title"] == EXPERT["title"]


def test_an_admin_deletes_a_private_expert_after_confirming(catalog, enterprise, expert, admin):
    client = page_client(enterprise, admin)
    confirm = client.get(f"/experts/private/{SLUG}/delete/")
    page = confirm.content.decode()
    assert confirm.status_code == 200 and f"Delete <strong>{EXPERT['name']}</strong>" in page
    assert f'action="/experts/private/{SLUG}/delete/"' in page and 'method="post"' in page
    assert stored() != []  # asking deletes nothing
    response = client.post(f"/experts/private/{SLUG}/delete/")
    assert response.status_code == 302 and response["Location"] == "/experts/"
    assert stored() == []
    assert f"Deleted the private expert {EXPERT['name']}." in client.get("/experts/").content.decode()
    assert client.get(f"/experts/{SLUG}/").status_code == 404
    assert client.get(f"/experts/private/{SLUG}/edit/").status_code == 404


# --- who may -------------------------------------------------------------------------------

@pytest.mark.parametrize("path", PRIVATE_URLS)
def test_members_get_a_403_page_and_write_nothing(catalog, enterprise, expert, member, path):
    client = page_client(enterprise, member)
    for response in (client.get(path), client.post(path, {**FORM, "slug": "member-made"})):
        assert response.status_code == 403
        assert "Only a tenant admin can create, change or delete private experts" in response.content.decode()
    assert stored() == [{"slug": SLUG, "title": EXPERT["title"], "capabilities": EXPERT["capabilities"]}]


@pytest.mark.parametrize("path", PRIVATE_URLS)
def test_a_plan_without_the_feature_gets_the_refusal_page_with_the_reason(catalog, beta, path):
    client = page_client(beta, make_user(beta, "starter-admin", is_admin=True))
    for response in (client.get(path), client.post(path, FORM)):
        page = response.content.decode()
        assert response.status_code == 403
        assert "Private experts are not included in your plan (starter); they are available on enterprise." in page
        assert 'href="/experts/"' in page
    assert stored("beta") == []


@pytest.mark.parametrize("method, path", [("get", path) for path in PRIVATE_URLS] + [("post", PRIVATE_URLS[0])])
def test_anonymous_visitors_are_sent_to_sign_in(enterprise, method, path):
    response = getattr(page_client(enterprise), method)(path)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/?next=")


# --- across tenants -------------------------------------------------------------------------

@pytest.fixture
def beta_enterprise(beta):
    tenant_update_configuration(tenant=beta, features={"custom_agents": True})
    return beta


def test_another_tenants_private_expert_is_never_shown(catalog, expert, beta_enterprise):
    client = page_client(beta_enterprise, make_user(beta_enterprise, "beta-admin", is_admin=True))
    listed = client.get("/experts/").content.decode()
    assert "Your private experts" in listed and EXPERT["name"] not in listed and SLUG not in listed
    assert "has no private expert yet" in listed
    assert EXPERT["name"] not in client.get("/experts/", {"q": "lyophilisation"}).content.decode()
    assert client.get(f"/experts/{SLUG}/").status_code == 404


def test_another_tenants_admin_cannot_edit_or_delete_it_by_slug(catalog, expert, beta_enterprise):
    client = page_client(beta_enterprise, make_user(beta_enterprise, "beta-admin", is_admin=True))
    for response in (client.get(f"/experts/private/{SLUG}/edit/"),
                     client.post(f"/experts/private/{SLUG}/edit/", {**FORM, "title": "Taken over"}),
                     client.get(f"/experts/private/{SLUG}/delete/"),
                     client.post(f"/experts/private/{SLUG}/delete/")):
        assert response.status_code == 404 and EXPERT["name"] not in response.content.decode()
    assert stored() == [{"slug": SLUG, "title": EXPERT["title"], "capabilities": EXPERT["capabilities"]}]
    assert stored("beta") == []


def test_a_session_from_another_tenant_does_not_work_on_this_host(catalog, enterprise, expert, admin,
                                                                  beta_enterprise):
    crossed = page_client(enterprise, admin, host=tenant_domain("beta"))  # alpha's session cookie, beta's host
    for response in (crossed.get("/experts/private/new/"), crossed.post("/experts/private/new/", FORM),
                     crossed.post(f"/experts/private/{SLUG}/delete/")):
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert stored("beta") == []
    assert [row["slug"] for row in stored()] == [SLUG]
