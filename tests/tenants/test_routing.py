"""Routing: host -> tenant, X-Tenant-ID on the platform host, and every refusal."""

import pytest
from django_tenants.utils import schema_context

from tenants.services import tenant_set_status
from tests.conftest import api_client, make_token

pytestmark = pytest.mark.django_db


def test_tenant_host_serves_that_tenant_and_names_it_in_a_header(alpha, alpha_api):
    response = alpha_api.get("/api/v1/tenant/")
    assert response.status_code == 200
    assert response.json()["id"] == "alpha"
    assert response["X-Tenant-ID"] == "alpha"


def test_platform_host_with_header_selects_the_tenant(alpha, alpha_user):
    token = make_token(alpha, alpha_user)
    client = api_client(token=token, HTTP_X_TENANT_ID="alpha")
    response = client.get("/api/v1/tenant/")
    assert response.status_code == 200
    assert response.json()["name"] == "Alpha Pharma"
    assert response["X-Tenant-ID"] == "alpha"


def test_unknown_host_is_404_with_the_error_shape():
    response = api_client(host="nobody.localhost").get("/api/v1/tenant/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "tenant_not_found"
    assert "nobody.localhost" in response.json()["error"]["message"]


def test_unknown_host_page_is_an_html_404():
    response = api_client(host="nobody.localhost").get("/")
    assert response.status_code == 404
    assert b"No tenant is served at nobody.localhost" in response.content


def test_unknown_tenant_in_header_is_404():
    response = api_client(HTTP_X_TENANT_ID="nosuchtenant").get("/api/v1/tenant/")
    assert response.status_code == 404
    assert response.json()["error"] == {
        "code": "tenant_not_found",
        "message": "There is no tenant 'nosuchtenant'.",
        "details": {},
    }


@pytest.mark.parametrize("header", ["Alpha", "alpha;drop", "al pha", "1alpha", "x" * 70, ""])
def test_malformed_header_is_400(header):
    response = api_client(HTTP_X_TENANT_ID=header).get("/api/v1/tenant/")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_tenant_header"


def test_header_naming_another_tenant_than_the_host_is_refused(alpha, beta, alpha_user):
    client = api_client(alpha, token=make_token(alpha, alpha_user), HTTP_X_TENANT_ID="beta")
    response = client.get("/api/v1/tenant/")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "tenant_mismatch"


@pytest.mark.parametrize("status", ["suspended", "inactive"])
def test_suspended_or_inactive_tenant_is_403_naming_the_reason(alpha, alpha_api, status):
    tenant_set_status(tenant=alpha, status=status, reason="Invoice 42 is unpaid.")
    response = alpha_api.get("/api/v1/tenant/")
    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == f"tenant_{status}"
    assert "Invoice 42 is unpaid." in error["message"]
    assert error["details"]["status"] == status


def test_suspended_tenant_is_refused_by_header_too(alpha, alpha_user):
    token = make_token(alpha, alpha_user)
    tenant_set_status(tenant=alpha, status="suspended", reason="Security review.")
    response = api_client(token=token, HTTP_X_TENANT_ID="alpha").get("/api/v1/tenant/")
    assert response.status_code == 403
    assert "Security review." in response.json()["error"]["message"]


def test_suspended_tenant_page_explains_itself(alpha):
    tenant_set_status(tenant=alpha, status="suspended", reason="Trial ended.")
    response = api_client(alpha).get("/")
    assert response.status_code == 403
    assert b"Trial ended." in response.content


@pytest.mark.parametrize("host", ["localhost", "alpha.localhost", "nobody.localhost"])
def test_health_answers_on_any_host(host):
    response = api_client(host=host).get("/api/v1/health/")
    assert response.status_code == 200
    body = response.json()
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["redis"]["ok"] is True
    assert "worker" in body["checks"]
    assert body["status"] in {"ok", "degraded"}


def test_tenant_endpoints_do_not_exist_on_the_platform_host_without_header():
    response = api_client().get("/api/v1/tenant/")
    assert response.status_code == 404
    assert "error" in response.json()


def test_routing_sees_a_suspension_at_once_despite_its_cache(alpha, alpha_api):
    assert alpha_api.get("/api/v1/tenant/").status_code == 200  # cached as active
    tenant_set_status(tenant=alpha, status="suspended", reason="Now.")
    assert alpha_api.get("/api/v1/tenant/").status_code == 403
    tenant_set_status(tenant=alpha, status="active")
    assert alpha_api.get("/api/v1/tenant/").status_code == 200


def test_a_new_domain_routes_at_once(alpha, alpha_user):
    from tenants.services import domain_add

    client = api_client(host="alpha-eu.localhost", token=make_token(alpha, alpha_user))
    assert client.get("/api/v1/tenant/").status_code == 404  # unknown, and cached as such
    domain_add(tenant=alpha, domain="alpha-eu.localhost")
    assert client.get("/api/v1/tenant/").json()["id"] == "alpha"


def test_pages_are_not_served_on_the_platform_host_even_with_the_header(alpha, alpha_user, settings):
    from django.test import Client

    client = Client(HTTP_HOST=settings.BASE_DOMAIN, HTTP_X_TENANT_ID="alpha")
    with schema_context("alpha"):
        client.force_login(alpha_user)
    assert client.get("/api/v1/tenant/").json()["id"] == "alpha"  # the API honours the header
    for path in ("/panels/", "/documents/", "/experts/", "/settings/"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert "X-Tenant-ID" not in response
