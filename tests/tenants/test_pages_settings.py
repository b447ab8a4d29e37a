"""Settings pages (tenant admins only): plan, branding with preview and contrast warnings,
logo upload, panel defaults, users and roles, the admin's own API token."""

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django_tenants.utils import schema_context

from tests.conftest import api_client, make_user

pytestmark = pytest.mark.django_db

SETTINGS_PAGES = [
    "/settings/", "/settings/branding/", "/settings/defaults/", "/settings/users/", "/settings/tokens/",
]
BRANDING = {
    "display_name": "Alpha Pharma Labs",
    "primary_color": "#123456",
    "secondary_color": "#f5f5f5",
    "accent_color": "#8a2be2",
    "font_family": "Georgia, serif",
    "favicon_url": "",
    "custom_css": "",
}


def signed_in(tenant, username, *, is_admin):
    make_user(tenant, username, password="pass-word-123", is_admin=is_admin)
    client = api_client(tenant)
    assert client.post("/accounts/login/", {"username": username, "password": "pass-word-123"}).status_code == 302
    return client


@pytest.fixture
def admin(alpha):
    return signed_in(alpha, "boss", is_admin=True)


@pytest.fixture
def member(alpha):
    return signed_in(alpha, "mia", is_admin=False)


def png_bytes(size=(40, 20), colour=(200, 30, 30)) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.mark.parametrize("path", SETTINGS_PAGES)
def test_anonymous_is_sent_to_sign_in(alpha, path):
    response = api_client(alpha).get(path)
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={path}"


@pytest.mark.parametrize("path", SETTINGS_PAGES)
def test_a_member_gets_the_branded_403(member, path):
    response = member.get(path)
    assert response.status_code == 403
    page = response.content.decode()
    assert "Settings are for this workspace&#x27;s admins" in page
    assert "Alpha Pharma" in page  # branded


def test_members_do_not_see_settings_in_the_nav_and_admins_do(member, admin):
    assert 'href="/settings/"' not in member.get("/accounts/password/").content.decode()
    assert 'href="/settings/"' in admin.get("/accounts/password/").content.decode()


@pytest.mark.parametrize("path", SETTINGS_PAGES)
def test_an_admin_opens_every_settings_page(admin, path):
    response = admin.get(path)
    assert response.status_code == 200
    assert "· Alpha Pharma</title>" in response.content.decode()


def test_a_session_from_another_tenant_does_not_open_settings(alpha, beta, admin):
    other = api_client(beta)
    other.cookies["sessionid"] = admin.cookies["sessionid"].value
    assert other.get("/settings/").status_code == 302


def test_plan_and_limits_are_shown_read_only(admin):
    page = admin.get("/settings/").content.decode()
    assert "Your plan: Professional" in page
    assert "<td>200</td>" in page  # professional: 200 panels a month
    assert "<form" not in page.split("<main")[1]


# --- Branding ---------------------------------------------------------------------------


def test_branding_is_saved_and_paints_every_page(admin, alpha):
    response = admin.post("/settings/branding/", BRANDING)
    assert response.status_code == 302
    page = admin.get("/settings/branding/").content.decode()
    assert "Branding saved." in page
    assert "--primary: #123456" in page and "--accent: #8a2be2" in page
    alpha.refresh_from_db()
    assert alpha.configuration.branding.display_name == "Alpha Pharma Labs"


def test_an_invalid_colour_is_shown_on_its_field_and_nothing_is_saved(admin, alpha):
    response = admin.post("/settings/branding/", {**BRANDING, "primary_color": "red; background: url(x)"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "must be a hex colour like #1f4e79" in page
    alpha.refresh_from_db()
    assert alpha.branding.get("primary_color") != "red; background: url(x)"


def test_custom_css_cannot_close_the_style_element(admin):
    response = admin.post("/settings/branding/", {**BRANDING, "custom_css": "</style><script>alert(1)</script>"})
    assert response.status_code == 400
    assert "may not contain" in response.content.decode()


def test_low_contrast_branding_is_saved_with_a_warning(admin, alpha):
    admin.post("/settings/branding/", {**BRANDING, "accent_color": "#ffd700"})  # white on gold
    page = admin.get("/settings/branding/").content.decode()
    assert "data-contrast-warnings" in page
    assert "White text on the accent colour (buttons)" in page
    alpha.refresh_from_db()
    assert alpha.configuration.branding.accent_color == "#ffd700"


def test_the_live_preview_is_computed_on_the_server(admin):
    response = admin.post("/settings/branding/preview/", {**BRANDING, "primary_color": "#eeeeee"}, HTTP_HX_REQUEST="true")
    fragment = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in fragment
    assert "background: #eeeeee" in fragment
    assert "White text on the primary colour" in fragment

    good = admin.post("/settings/branding/preview/", BRANDING).content.decode()
    assert "data-contrast-warnings" not in good
    bad = admin.post("/settings/branding/preview/", {**BRANDING, "accent_color": "blue"}).content.decode()
    assert "must be a hex colour" in bad


def test_a_member_cannot_preview_branding(member):
    assert member.post("/settings/branding/preview/", BRANDING).status_code == 403


def test_logo_upload_is_stored_per_tenant_and_served(admin, alpha, beta, media_root):
    upload = SimpleUploadedFile("logo.png", png_bytes(), content_type="image/png")
    assert admin.post("/settings/branding/", {**BRANDING, "logo": upload}).status_code == 302
    alpha.refresh_from_db()
    logo_url = alpha.configuration.branding.logo_url
    assert logo_url.startswith("/branding/logo-") and logo_url.endswith(".png")
    stored = media_root / "tenants" / "alpha" / "branding" / logo_url.rsplit("/", 1)[1]
    assert stored.read_bytes() == png_bytes()

    served = api_client(alpha).get(logo_url)  # public: the sign-in page shows it
    assert served.status_code == 200
    assert b"".join(served.streaming_content) == png_bytes()
    assert f'src="{logo_url}"' in api_client(alpha).get("/accounts/login/").content.decode()
    assert api_client(beta).get(logo_url).status_code == 404

    admin.post("/settings/branding/", {**BRANDING, "remove_logo": "on"})
    alpha.refresh_from_db()
    assert alpha.configuration.branding.logo_url == ""


def test_a_file_that_is_not_an_image_is_refused(admin, alpha, media_root):
    upload = SimpleUploadedFile("logo.png", b"<svg onload=alert(1)></svg>", content_type="image/png")
    response = admin.post("/settings/branding/", {**BRANDING, "logo": upload})
    assert response.status_code == 400
    assert "is not an image; upload a PNG, JPEG, GIF or WebP file." in response.content.decode()
    assert not (media_root / "tenants" / "alpha" / "branding").exists()


@override_settings(BRANDING_LOGO_MAX_KB=1)
def test_a_logo_over_the_size_limit_is_refused(admin, media_root):
    import os

    big = png_bytes() + os.urandom(2048)
    response = admin.post("/settings/branding/", {**BRANDING, "logo": SimpleUploadedFile("big.png", big)})
    assert response.status_code == 400
    assert "a logo may be at most 1 KB" in response.content.decode()


def test_logo_names_outside_the_pattern_are_not_served(alpha):
    assert api_client(alpha).get("/branding/..%2F..%2Fsettings.py").status_code == 404
    assert api_client(alpha).get("/branding/logo-0000000000000000.png").status_code == 404


# --- Panel defaults ---------------------------------------------------------------------


def test_panel_defaults_are_saved(admin, alpha):
    response = admin.post("/settings/defaults/", {"panel_type": "delphi", "rounds": 3, "consensus_threshold": 0.8})
    assert response.status_code == 302
    alpha.refresh_from_db()
    defaults = alpha.configuration.panel_defaults
    assert (defaults.panel_type, defaults.rounds, defaults.consensus_threshold) == ("delphi", 3, 0.8)


def test_panel_defaults_out_of_range_are_shown_on_the_field(admin):
    response = admin.post("/settings/defaults/", {"panel_type": "open", "rounds": 9, "consensus_threshold": 0.8})
    assert response.status_code == 400
    assert "must be a whole number from 1 to 5" in response.content.decode()


def test_a_panel_type_outside_the_plan_is_not_offered(beta):
    client = signed_in(beta, "beta-boss", is_admin=True)
    page = client.get("/settings/defaults/").content.decode()
    assert 'value="open"' in page and 'value="delphi"' not in page  # starter plan
    refused = client.post("/settings/defaults/", {"panel_type": "delphi", "rounds": 2, "consensus_threshold": 0.7})
    assert refused.status_code == 400


def test_the_service_refuses_a_panel_type_outside_the_plan(beta):
    from tenants.configuration import ConfigurationError
    from tenants.services import tenant_panel_defaults_set

    with pytest.raises(ConfigurationError, match="not in this tenant's plan"):
        tenant_panel_defaults_set(tenant=beta, panel_defaults={"panel_type": "delphi"})


# --- Users ------------------------------------------------------------------------------


def user_in(tenant, username):
    with schema_context(tenant.schema_name):
        return get_user_model().objects.get(username=username)


def test_an_admin_adds_a_member_who_can_sign_in(admin, alpha):
    response = admin.post("/settings/users/", {"username": "newbie", "email": "", "password": "fresh-pass-42", "role": "member"})
    assert response.status_code == 302
    assert "newbie can now sign in as member." in admin.get("/settings/users/").content.decode()
    assert not user_in(alpha, "newbie").is_staff
    assert api_client(alpha).post("/accounts/login/", {"username": "newbie", "password": "fresh-pass-42"}).status_code == 302


def test_user_form_errors_are_shown(admin):
    make_user_response = admin.post("/settings/users/", {"username": "boss", "password": "fresh-pass-42", "role": "member"})
    assert make_user_response.status_code == 400
    assert "is already taken here" in make_user_response.content.decode()
    short = admin.post("/settings/users/", {"username": "shorty", "password": "abc", "role": "member"})
    assert short.status_code == 400
    assert "too short" in short.content.decode()
    bad_name = admin.post("/settings/users/", {"username": "no spaces", "password": "fresh-pass-42", "role": "member"})
    assert bad_name.status_code == 400
    assert "Enter a valid username" in bad_name.content.decode()


def test_an_admin_changes_a_role(admin, alpha):
    mia = make_user(alpha, "mia2", password="pass-word-123")
    admin.post(f"/settings/users/{mia.pk}/role/", {"role": "admin"})
    assert user_in(alpha, "mia2").is_staff
    admin.post(f"/settings/users/{mia.pk}/role/", {"role": "member"})
    assert not user_in(alpha, "mia2").is_staff


def test_an_admin_cannot_demote_or_deactivate_themself(admin, alpha):
    boss = user_in(alpha, "boss")
    admin.post(f"/settings/users/{boss.pk}/role/", {"role": "member"})
    admin.post(f"/settings/users/{boss.pk}/active/", {"active": "0"})
    page = admin.get("/settings/users/").content.decode()
    assert "You cannot remove your own admin role" in page
    assert "You cannot deactivate yourself" in page
    boss = user_in(alpha, "boss")
    assert boss.is_staff and boss.is_active


def test_a_deactivated_user_loses_sessions_and_token(admin, alpha):
    from tests.conftest import make_token

    mia = make_user(alpha, "mia3", password="pass-word-123")
    mia_client = api_client(alpha)
    mia_client.post("/accounts/login/", {"username": "mia3", "password": "pass-word-123"})
    token = make_token(alpha, mia)
    assert mia_client.get("/accounts/password/").status_code == 200

    assert admin.post(f"/settings/users/{mia.pk}/active/", {"active": "0"}).status_code == 302
    assert not user_in(alpha, "mia3").is_active
    assert mia_client.get("/accounts/password/").status_code == 302
    assert api_client(alpha, token=token).get("/api/v1/tenant/").status_code == 401
    assert api_client(alpha).post("/accounts/login/", {"username": "mia3", "password": "pass-word-123"}).status_code == 200

    admin.post(f"/settings/users/{mia.pk}/active/", {"active": "1"})
    assert user_in(alpha, "mia3").is_active


def test_a_member_cannot_change_roles(member, alpha):
    mia = user_in(alpha, "mia")
    assert member.post(f"/settings/users/{mia.pk}/role/", {"role": "admin"}).status_code == 403
    assert not user_in(alpha, "mia").is_staff


def test_another_tenants_user_ids_are_404(admin, alpha, beta):
    with schema_context("alpha"):
        alpha_ids = set(get_user_model().objects.values_list("pk", flat=True))
    beta_user = make_user(beta, "beta-person")
    while beta_user.pk in alpha_ids:  # ids are per schema: find one alpha does not have
        beta_user = make_user(beta, f"beta-person-{beta_user.pk}")
    assert admin.post(f"/settings/users/{beta_user.pk}/role/", {"role": "admin"}).status_code == 404
    assert admin.post(f"/settings/users/{beta_user.pk}/active/", {"active": "0"}).status_code == 404
    assert user_in(beta, beta_user.username).is_active


# --- The admin's own API token --------------------------------------------------------


def test_a_token_is_shown_once_works_and_can_be_revoked(admin, alpha):
    import re

    created = admin.post("/settings/tokens/", {"action": "create"})
    assert created["Cache-Control"] == "no-store"
    key = re.search(r"data-new-token>([0-9a-f]{40})<", created.content.decode()).group(1)
    assert api_client(alpha, token=key).get("/api/v1/tenant/").status_code == 200

    later = admin.get("/settings/tokens/").content.decode()
    assert key not in later
    assert key[-4:] in later  # masked

    replaced = admin.post("/settings/tokens/", {"action": "create"}).content.decode()
    assert key not in replaced
    assert api_client(alpha, token=key).get("/api/v1/tenant/").status_code == 401

    assert admin.post("/settings/tokens/", {"action": "revoke"}).status_code == 302
    assert "You have no API token." in admin.get("/settings/tokens/").content.decode()


def test_a_token_made_on_one_tenant_is_refused_on_another(admin, alpha, beta):
    import re

    page = admin.post("/settings/tokens/", {"action": "create"}).content.decode()
    key = re.search(r"data-new-token>([0-9a-f]{40})<", page).group(1)
    assert api_client(beta, token=key).get("/api/v1/tenant/").status_code == 401
