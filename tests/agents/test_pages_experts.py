"""Experts pages: the catalog with filters and pages, an expert's profile (escaped) and
this tenant's use of it, and preferences that tenant admins set here — the same ones the
API returns and ranking reads."""

import re

import pytest
from django.test import Client
from django_tenants.utils import schema_context

from agents.models import Agent
from agents.tenant.models import AgentPreferences
from agents.tenant.services import agent_rating_record, agent_usage_record, preferences_set
from tests.conftest import api_client, make_token, make_user, page_client, tenant_domain

pytestmark = pytest.mark.django_db
SLUG = "germany-amnog-specialist"  # market_access


def preferences(tenant) -> dict:
    with schema_context(tenant.schema_name):
        row = AgentPreferences.objects.first()
        return {"preferred": row.preferred, "disabled": row.disabled} if row else None


@pytest.mark.parametrize("method, path", [("get", "/experts/"), ("get", f"/experts/{SLUG}/"),
                                          ("post", f"/experts/{SLUG}/")])
def test_anonymous_visitors_are_sent_to_sign_in(alpha, catalog, method, path):
    response = getattr(page_client(alpha), method)(path)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/?next=")


def test_the_pages_do_not_exist_on_the_platform_host(catalog):
    assert Client(HTTP_HOST="localhost").get("/experts/").status_code == 404


def test_the_catalog_lists_experts_with_labelled_filters_and_pages(alpha, catalog, member):
    client = page_client(alpha, member)
    response = client.get("/experts/")
    page = response.content.decode()
    assert response.status_code == 200 and re.search(r"<title>Experts · [^<]+</title>", page)
    total = Agent.objects.filter(is_active=True).count()
    assert f"{total} experts." in page and page.count('class="card"') >= 24
    for field in ("id_q", "id_domain", "id_tier"):
        assert f'for="{field}"' in page and f'id="{field}"' in page
    assert "Page 1 of" in page and 'page=2"' in page
    second = client.get("/experts/", {"page": 2}).content.decode()
    assert "Page 2 of" in second


def test_the_catalog_filters_by_domain_tier_and_search(alpha, catalog, member):
    client = page_client(alpha, member)
    by_domain = client.get("/experts/", {"domain": "pharmacovigilance"}).content.decode()
    expected = Agent.objects.filter(is_active=True, domain="pharmacovigilance").count()
    assert f"{expected} experts." in by_domain and "Regulatory Affairs · Tier" not in by_domain
    by_tier = client.get("/experts/", {"tier": 1, "domain": "market_access"}).content.decode()
    assert "· Tier 2" not in by_tier and "· Tier 3" not in by_tier and "· Tier 1" in by_tier
    searched = client.get("/experts/", {"q": "510(k)"}).content.decode()
    assert 'href="/experts/fda-510k-specialist/"' in searched
    paged = client.get("/experts/", {"domain": "regulatory_affairs"}).content.decode()
    if "page=2" in paged:  # pages keep the filters
        assert "domain=regulatory_affairs&amp;page=2" in paged
    bad = client.get("/experts/", {"domain": "astrology"})
    assert bad.status_code == 200 and "Select a valid choice" in bad.content.decode()


def test_an_experts_page_shows_the_profile_escaped(alpha, catalog, member):
    Agent.objects.create(
        slug="hostile-expert", name="Eve <script>alert(1)</script>", title="<img src=x onerror=alert(1)>",
        domain="market_access", business_function="Pricing", tier=2, capabilities=["<b>bold</b> claims"],
        knowledge_domains=[], key_considerations=[], cost_per_query=0,
        system_prompt="You are **careful**.\n\n<script>alert('prompt')</script>",
    )
    response = page_client(alpha, member).get("/experts/hostile-expert/")
    page = response.content.decode()
    assert response.status_code == 200
    assert "Eve &lt;script&gt;alert(1)&lt;/script&gt;" in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "&lt;b&gt;bold&lt;/b&gt; claims" in page
    assert "<strong>careful</strong>" in page  # the profile's Markdown, sanitised
    assert "<script>alert" not in page and "<img src=x" not in page


def test_an_experts_page_shows_capabilities_and_this_tenants_usage(alpha, beta, catalog, member):
    agent = Agent.objects.get(slug=SLUG)
    with schema_context("alpha"):
        agent_usage_record(agents=[agent])
        agent_usage_record(agents=[agent])
        agent_rating_record(agents=[agent], score=4)
    page = page_client(alpha, member).get(f"/experts/{SLUG}/").content.decode()
    assert f"<title>{agent.name} · Experts" in page
    assert all(capability in page for capability in agent.capabilities[:2])
    assert "Used in 2 panels" in page and "Rated 4.0 / 5 over 1 rating." in page
    other = page_client(beta, make_user(beta, "bob")).get(f"/experts/{SLUG}/").content.decode()
    assert "has not used this expert yet" in other
    assert page_client(alpha, member).get("/experts/no-such-expert/").status_code == 404


def test_a_tenant_admin_marks_experts_and_the_api_returns_the_same_preferences(alpha, catalog, admin, member):
    client = page_client(alpha, admin)
    response = client.post(f"/experts/{SLUG}/", {"mark": "preferred"})
    assert response.status_code == 302 and response["Location"] == f"/experts/{SLUG}/"
    assert client.post("/experts/nice-hta-specialist/", {"mark": "disabled"}).status_code == 302
    api = api_client(alpha, token=make_token(alpha, admin))
    assert api.get("/api/v1/agent-preferences/").json() == {
        "preferred": {"market_access": [SLUG]}, "disabled": ["nice-hta-specialist"]}

    # a member sees the marks, on the expert's page and in the catalog, without the form
    member_client = page_client(alpha, member)
    detail = member_client.get(f"/experts/{SLUG}/").content.decode()
    assert "Preferred by your organisation" in detail and 'name="mark"' not in detail
    catalog_page = member_client.get("/experts/", {"domain": "market_access"}).content.decode()
    assert 'class="mark preferred"' in catalog_page and 'class="mark disabled"' in catalog_page

    assert client.post(f"/experts/{SLUG}/", {"mark": "none"}).status_code == 302
    assert api.get("/api/v1/agent-preferences/").json() == {"preferred": {}, "disabled": ["nice-hta-specialist"]}


def test_a_member_cannot_change_preferences(alpha, catalog, member):
    with schema_context("alpha"):
        preferences_set(preferred={}, disabled=["nice-hta-specialist"])
    response = page_client(alpha, member).post(f"/experts/{SLUG}/", {"mark": "disabled"})
    assert response.status_code == 403
    assert "Only a tenant admin can change" in response.content.decode()
    assert preferences(alpha) == {"preferred": {}, "disabled": ["nice-hta-specialist"]}


def test_a_refused_mark_shows_the_services_message_and_writes_nothing(alpha, catalog, admin):
    Agent.objects.filter(slug=SLUG).update(is_active=False)
    response = page_client(alpha, admin).post(f"/experts/{SLUG}/", {"mark": "preferred"})
    assert response.status_code == 400
    assert f"Unknown or retired agent(s): {SLUG}." in response.content.decode()
    bad = page_client(alpha, admin).post("/experts/nice-hta-specialist/", {"mark": "favourite"})
    assert bad.status_code == 400 and "Choose one of" in bad.content.decode()
    assert preferences(alpha) is None


def test_one_tenants_marks_never_reach_another(alpha, beta, catalog, admin):
    assert page_client(alpha, admin).post(f"/experts/{SLUG}/", {"mark": "preferred"}).status_code == 302
    page = page_client(beta, make_user(beta, "bob", is_admin=True)).get(f"/experts/{SLUG}/").content.decode()
    assert "Preferred by your organisation" not in page
    assert preferences(beta) is None
    # alpha's admin session does not exist on beta's host
    assert page_client(alpha, admin, host=tenant_domain("beta")).post(
        f"/experts/{SLUG}/", {"mark": "disabled"}).status_code == 302
    assert preferences(beta) is None
