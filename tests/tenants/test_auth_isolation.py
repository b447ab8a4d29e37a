"""Users, sessions and tokens live in each tenant's schema: one tenant's credentials
mean nothing on another, by host and by header."""

import pytest
from django.contrib.auth import get_user_model
from django_tenants.utils import schema_context

from tests.conftest import api_client, make_token, make_user

pytestmark = pytest.mark.django_db


def test_token_for_username_and_password(alpha, alpha_user):
    response = api_client(alpha).post(
        "/api/v1/auth/token/", {"username": "alice", "password": "secret-pass-1"}, format="json"
    )
    assert response.status_code == 200
    token = response.json()["token"]
    assert api_client(alpha, token=token).get("/api/v1/tenant/").status_code == 200


def test_wrong_password_is_refused_with_the_error_shape(alpha, alpha_user):
    response = api_client(alpha).post(
        "/api/v1/auth/token/", {"username": "alice", "password": "nope"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_credentials"


def test_token_request_missing_fields_names_them(alpha):
    response = api_client(alpha).post("/api/v1/auth/token/", {"username": "alice"}, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert "password" in error["message"]
    assert "password" in error["details"]["fields"]


def test_a_user_of_one_tenant_cannot_get_a_token_on_another(alpha, beta, alpha_user):
    response = api_client(beta).post(
        "/api/v1/auth/token/", {"username": "alice", "password": "secret-pass-1"}, format="json"
    )
    assert response.status_code == 400
    with schema_context("beta"):
        assert not get_user_model().objects.filter(username="alice").exists()


def test_every_tenant_endpoint_requires_authentication(alpha):
    response = api_client(alpha).get("/api/v1/tenant/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_token_of_one_tenant_is_refused_on_another_host(alpha, beta, alpha_user):
    token = make_token(alpha, alpha_user)
    response = api_client(beta, token=token).get("/api/v1/tenant/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"


def test_token_of_one_tenant_is_refused_through_the_header_for_another(alpha, beta, alpha_user):
    token = make_token(alpha, alpha_user)
    response = api_client(token=token, HTTP_X_TENANT_ID="beta").get("/api/v1/tenant/")
    assert response.status_code == 401


def test_same_username_in_two_tenants_are_different_people(alpha, beta):
    alice_alpha = make_user(alpha, "alice", password="alpha-password")
    make_user(beta, "alice", password="beta-password")
    token = make_token(alpha, alice_alpha)
    assert api_client(alpha, token=token).get("/api/v1/tenant/").json()["id"] == "alpha"
    assert api_client(beta, token=token).get("/api/v1/tenant/").status_code == 401
    refused = api_client(beta).post(
        "/api/v1/auth/token/", {"username": "alice", "password": "alpha-password"}, format="json"
    )
    assert refused.status_code == 400


def test_session_of_one_tenant_is_refused_on_another(alpha, beta, alpha_user):
    client = api_client(alpha)
    signed_in = client.post("/accounts/login/", {"username": "alice", "password": "secret-pass-1"})
    assert signed_in.status_code == 302
    session_cookie = client.cookies["sessionid"].value
    assert client.get("/api/v1/tenant/").status_code == 200

    other = api_client(beta)
    other.cookies["sessionid"] = session_cookie
    assert other.get("/api/v1/tenant/").status_code == 401

    via_header = api_client(HTTP_X_TENANT_ID="beta")
    via_header.cookies["sessionid"] = session_cookie
    assert via_header.get("/api/v1/tenant/").status_code == 401


def test_api_access_flag_off_refuses_tokens(alpha, alpha_user):
    from tenants.services import tenant_update_configuration

    token = make_token(alpha, alpha_user)
    tenant_update_configuration(tenant=alpha, features={"api_access": False})
    response = api_client(alpha, token=token).get("/api/v1/tenant/")
    assert response.status_code == 403
    assert "API access" in response.json()["error"]["message"]


@pytest.mark.django_db
def test_token_requests_share_the_sign_in_pages_failure_limit(alpha, settings):
    settings.LOGIN_FAILURES_PER_USER, settings.LOGIN_FAILURES_PER_IP = 3, 100
    make_user(alpha, "carol", password="secret-pass-1")
    client = api_client(alpha)
    for _ in range(3):
        assert client.post("/api/v1/auth/token/", {"username": "carol", "password": "guess"},
                           format="json").status_code == 400

    locked = client.post("/api/v1/auth/token/", {"username": "carol", "password": "secret-pass-1"}, format="json")

    assert locked.status_code == 429
    assert locked.json()["error"]["code"] == "too_many_sign_in_failures"
    assert "token" not in locked.json()
