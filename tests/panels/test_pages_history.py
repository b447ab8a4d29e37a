"""The history page: own panels (tenant admins: all), filters, search, pagination."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from panels.lifecycle import Status
from panels.models import Panel
from tests.conftest import make_user, page_client

pytestmark = pytest.mark.django_db


def panels(tenant, owner, count, *, query="Question {n} about the EU MDR transition", days_ago=0, **fields):
    """Rows as the history lists them (bulk: far more than the plan's running limit)."""
    with schema_context(tenant.schema_name):
        created = Panel.objects.bulk_create([
            Panel(query=query.format(n=n), owner=owner, tenant_schema=tenant.schema_name,
                  **{"panel_type": "structured", "status": Status.COMPLETED, **fields})
            for n in range(count)])
        if days_ago:
            Panel.objects.filter(pk__in=[p.pk for p in created]).update(
                created_at=timezone.now() - timedelta(days=days_ago))
        return created


def listed(page: str) -> int:
    return page.count('<td class="question-cell">')


def test_anonymous_is_sent_to_sign_in(alpha):
    response = page_client(alpha).get("/panels/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_a_member_sees_their_own_panels_and_an_admin_all(alpha, alpha_user):
    mine = panels(alpha, alpha_user, 2, query="Mine {n}: is the MDR transition on track?")
    theirs = panels(alpha, make_user(alpha, "carol"), 3, query="Carol's {n}: which notified body?")
    page = page_client(alpha, alpha_user).get("/panels/").content.decode()
    assert "<title>Panels" in page and "Your panels" in page
    assert listed(page) == 2 and f"/panels/{mine[0].pk}/" in page and f"/panels/{theirs[0].pk}/" not in page
    admin_page = page_client(alpha, make_user(alpha, "boss", is_admin=True)).get("/panels/").content.decode()
    assert listed(admin_page) == 5 and "Asked by" in admin_page and "carol" in admin_page


def test_filters_by_type_status_date_and_words(alpha, alpha_user):
    panels(alpha, alpha_user, 2, query="Delphi {n}: will payers accept single-arm data?", panel_type="delphi")
    panels(alpha, alpha_user, 1, query="Cancelled {n}: label update", status=Status.CANCELLED)
    panels(alpha, alpha_user, 3, query="Old {n}: biosimilar interchangeability", days_ago=40)
    client = page_client(alpha, alpha_user)
    assert listed(client.get("/panels/", {"panel_type": "delphi"}).content.decode()) == 2
    assert listed(client.get("/panels/", {"status": "cancelled"}).content.decode()) == 1
    assert listed(client.get("/panels/", {"q": "PAYERS accept"}).content.decode()) == 2
    recent = (timezone.now() - timedelta(days=7)).date().isoformat()
    assert listed(client.get("/panels/", {"created_from": recent}).content.decode()) == 3
    assert listed(client.get("/panels/", {"created_to": recent}).content.decode()) == 3
    assert listed(client.get("/panels/", {"panel_type": "delphi", "q": "biosimilar"}).content.decode()) == 0


def test_a_bad_filter_is_explained(alpha, alpha_user):
    response = page_client(alpha, alpha_user).get("/panels/", {"status": "exploded", "created_from": "soon"})
    page = response.content.decode()
    assert response.status_code == 200
    assert "Status: Select a valid choice." in page and "From: Enter a valid date." in page


def test_pagination_keeps_the_filters(alpha, alpha_user):
    panels(alpha, alpha_user, 30, query="Open {n}: what do KOLs think?", panel_type="open")
    panels(alpha, alpha_user, 5)
    client = page_client(alpha, alpha_user)
    first = client.get("/panels/", {"panel_type": "open"}).content.decode()
    assert listed(first) == 25 and "30 panels" in first and "Page 1 of 2" in first
    assert 'href="?panel_type=open&amp;page=2"' in first
    second = client.get("/panels/", {"panel_type": "open", "page": 2}).content.decode()
    assert listed(second) == 5 and "Open 0:" in second  # oldest last
    assert listed(client.get("/panels/", {"page": 99}).content.decode()) == 10  # the last page


def test_another_tenants_panels_never_show(alpha, beta, alpha_user, beta_user):
    panels(alpha, alpha_user, 2, query="Alpha's secret {n}: the launch date")
    page = page_client(beta, make_user(beta, "boss", is_admin=True)).get("/panels/").content.decode()
    assert "Alpha's secret" not in page and listed(page) == 0
