"""Sign in, sign out, change password: branded pages, host-only sessions, throttled failures."""

import pytest
from django.test import override_settings

from tests.conftest import api_client, make_user, page_client, tenant_domain

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _forget_failed_sign_ins():
    """Failure counts live in Redis, which the test database's rollback does not reach."""
    from tenants.services import tenant_cache_clear

    yield
    for schema_name in ("alpha", "beta"):
        tenant_cache_clear(schema_name=schema_name)


def sign_in(client, username, password):
    return client.post("/accounts/login/", {"username": username, "password": password})


def test_sign_in_page_is_branded_with_labels(alpha):
    from tenants.services import tenant_update_configuration

    tenant_update_configuration(tenant=alpha, branding={"display_name": "Alpha Pharma Labs", "primary_color": "#abcdef"})
    response = page_client(alpha).get("/accounts/login/")
    page = response.content.decode()
    assert response.status_code == 200
    assert "<title>Sign in · Alpha Pharma Labs</title>" in page
    assert "--primary: #abcdef" in page
    assert '<label for="id_username">' in page and '<label for="id_password">' in page
    assert 'href="#main"' in page  # skip link


def test_font_family_quotes_reach_the_stylesheet_unescaped(alpha):
    from tenants.services import tenant_update_configuration

    tenant_update_configuration(tenant=alpha, branding={"font_family": "Georgia, 'Times New Roman', serif"})
    page = page_client(alpha).get("/accounts/login/").content.decode()
    assert "--font: Georgia, 'Times New Roman', serif;" in page


def test_sign_in_then_sign_out(alpha):
    make_user(alpha, "alice", password="secret-pass-1")
    client = page_client(alpha)
    response = sign_in(client, "alice", "secret-pass-1")
    assert response.status_code == 302
    assert client.get("/settings/").status_code == 403  # signed in (a member), not sent to sign-in
    signed_out = client.post("/accounts/logout/")
    assert signed_out.status_code == 302 and signed_out["Location"] == "/accounts/login/"
    assert client.get("/settings/")["Location"].startswith("/accounts/login/")


def test_wrong_password_is_shown_on_the_form(alpha):
    make_user(alpha, "alice", password="secret-pass-1")
    response = sign_in(page_client(alpha), "alice", "wrong")
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()


def test_session_cookie_is_host_only_and_useless_on_another_tenant(alpha, beta):
    make_user(alpha, "boss", password="boss-pass-123", is_admin=True)
    make_user(beta, "boss", password="boss-pass-123", is_admin=True)  # same name, other person
    client = page_client(alpha)
    response = sign_in(client, "boss", "boss-pass-123")
    cookie = response.cookies["sessionid"]
    assert cookie["domain"] == ""  # host-only: the browser never sends it to beta's host
    assert cookie["httponly"]
    assert client.get("/settings/").status_code == 200

    other = page_client(beta)
    other.cookies["sessionid"] = cookie.value  # even copied by hand, beta does not know it
    refused = other.get("/settings/")
    assert refused.status_code == 302
    assert refused["Location"].startswith("/accounts/login/")


@override_settings(LOGIN_FAILURES_PER_USER=3, LOGIN_FAILURES_PER_IP=100)
def test_failed_sign_ins_lock_the_username_even_for_the_right_password(alpha):
    from tenants.services import tenant_cache_clear

    make_user(alpha, "alice", password="secret-pass-1")
    client = page_client(alpha)
    for _ in range(3):
        assert sign_in(client, "alice", "guess").status_code == 200
    locked = sign_in(client, "alice", "secret-pass-1")
    assert locked.status_code == 429
    assert "Too many failed sign-ins" in locked.content.decode()
    assert "sessionid" not in locked.cookies

    # The window passes (the counts expire with it): the right password works again.
    tenant_cache_clear(schema_name="alpha")
    assert sign_in(client, "alice", "secret-pass-1").status_code == 302


@override_settings(LOGIN_FAILURES_PER_USER=100, LOGIN_FAILURES_PER_IP=3)
def test_failed_sign_ins_from_one_ip_lock_every_username(alpha):
    make_user(alpha, "bob", password="secret-pass-2")
    client = page_client(alpha)
    for name in ("x", "y", "z"):
        sign_in(client, name, "guess")
    refused = sign_in(client, "bob", "secret-pass-2")
    assert refused.status_code == 429
    assert "Too many failed sign-ins" in refused.content.decode()
    other_ip = page_client(alpha, REMOTE_ADDR="10.9.8.7")
    assert sign_in(other_ip, "bob", "secret-pass-2").status_code == 302


@override_settings(LOGIN_FAILURES_PER_USER=2, LOGIN_FAILURES_PER_IP=100)
def test_a_lock_on_one_tenant_does_not_lock_the_same_name_on_another(alpha, beta):
    make_user(beta, "alice", password="secret-pass-1")
    for _ in range(2):
        sign_in(page_client(alpha), "alice", "guess")
    assert sign_in(page_client(alpha), "alice", "guess").status_code == 429
    assert sign_in(page_client(beta), "alice", "secret-pass-1").status_code == 302


def test_change_password(alpha):
    make_user(alpha, "alice", password="secret-pass-1")
    client = page_client(alpha)
    assert client.get("/accounts/password/")["Location"].startswith("/accounts/login/")
    sign_in(client, "alice", "secret-pass-1")
    page = client.get("/accounts/password/")
    assert page.status_code == 200 and "<title>Change password" in page.content.decode()

    mismatch = client.post("/accounts/password/", {
        "old_password": "secret-pass-1", "new_password1": "brand-new-pass-9", "new_password2": "other-pass-9",
    })
    assert mismatch.status_code == 200
    assert "didn’t match" in mismatch.content.decode()

    changed = client.post("/accounts/password/", {
        "old_password": "secret-pass-1", "new_password1": "brand-new-pass-9", "new_password2": "brand-new-pass-9",
    })
    assert changed.status_code == 302
    assert "Your password was changed." in client.get(changed["Location"], follow=True).content.decode()
    assert sign_in(page_client(alpha), "alice", "brand-new-pass-9").status_code == 302


def test_suspended_tenant_shows_a_branded_403_with_the_reason(alpha):
    from tenants.services import tenant_set_status, tenant_update_configuration

    tenant_update_configuration(tenant=alpha, branding={"display_name": "Alpha Pharma Labs", "primary_color": "#abcdef"})
    tenant_set_status(tenant=alpha, status="suspended", reason="The invoice of March is unpaid.")
    response = page_client(alpha).get("/accounts/login/")
    page = response.content.decode()
    assert response.status_code == 403
    assert "The invoice of March is unpaid." in page
    assert "--primary: #abcdef" in page and "<title>Not available · Alpha Pharma Labs</title>" in page
    assert page_client(alpha).get("/static/askpanel/app.css").status_code == 200  # its stylesheet still loads


def test_pages_are_only_on_tenant_hosts():
    response = api_client().get("/accounts/login/")
    assert response.status_code == 404


def test_unknown_page_is_a_branded_404(alpha):
    from tenants.services import tenant_update_configuration

    tenant_update_configuration(tenant=alpha, branding={"display_name": "Alpha Pharma Labs"})
    response = page_client(alpha).get("/no-such-page/")
    assert response.status_code == 404
    page = response.content.decode()
    assert "We could not find that page" in page and "Alpha Pharma Labs" in page


def test_tenant_domain_helper_is_the_host(alpha):
    assert page_client(alpha).get("/accounts/login/").wsgi_request.get_host() == tenant_domain("alpha")
