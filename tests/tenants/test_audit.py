"""The audit trail (issue 18): every administrative change writes exactly one event, in the
same transaction, with who did it and to what; a refused change writes none. Tenant admins
read their own tenant's trail (API and page), members are refused, platform admins read
every tenant's in the platform admin and cannot change it, and no secret is ever in it."""

import json

import pytest
from django.contrib.auth import get_user_model
from django_tenants.utils import schema_context

from tenants.audit.models import AuditEvent
from tenants.audit.services import audit_record
from tests.conftest import api_client, make_token, make_user, page_client
from tests.factories import make_document, make_panel
from tests.panels.conftest import DEVICE_NOTE

pytestmark = pytest.mark.django_db

PASSWORD = "pass-word-123"
LLM_KEY = "sk-audit-secret-0123456789abcdef"


def events(tenant, **filters):
    return list(AuditEvent.objects.filter(tenant=tenant, **filters).order_by("id"))


def only_event(tenant, before: int):
    """The one event written since `before` (the number of the tenant's events then)."""
    new = events(tenant)[before:]
    assert len(new) == 1, [(event.action, event.target_label) for event in new]
    return new[0]


def assert_actor(event, user, kind="tenant_user"):
    assert (event.actor_kind, event.actor_id, event.actor_username) == (kind, user.pk, user.username)


@pytest.fixture
def boss(alpha):
    return make_user(alpha, "boss", PASSWORD, is_admin=True)


@pytest.fixture
def boss_pages(alpha, boss):
    return page_client(alpha, boss)


@pytest.fixture
def boss_api(alpha, boss):
    return api_client(alpha, token=make_token(alpha, boss))


@pytest.fixture
def mia(alpha):
    return make_user(alpha, "mia", PASSWORD)


@pytest.fixture
def root():
    return get_user_model().objects.create_superuser("root", "root@example.com", "root-pass-123")


@pytest.fixture
def platform(root):
    client = api_client()
    assert client.post("/admin/login/?next=/admin/", {"username": "root", "password": "root-pass-123"}).status_code == 302
    return client


# --- Each action writes one event, with its actor and target ----------------------------


def test_branding_and_panel_defaults_changed_on_the_settings_pages(alpha, boss, boss_pages):
    count = len(events(alpha))
    branding = {"display_name": "Alpha Audited", "primary_color": "#123456", "secondary_color": "#f5f5f5",
                "accent_color": "#8a2be2", "font_family": "Georgia, serif", "favicon_url": "", "custom_css": ""}
    assert boss_pages.post("/settings/branding/", branding).status_code == 302
    event = only_event(alpha, count)
    assert event.action == "branding_changed" and (event.target_kind, event.target_id) == ("tenant", alpha.pk)
    assert_actor(event, boss)
    assert event.changes["branding.display_name"]["to"] == "Alpha Audited"
    assert event.changes["branding.primary_color"] == {"from": None, "to": "#123456"}

    count += 1
    response = boss_pages.post("/settings/defaults/", {"panel_type": "structured", "rounds": 2,
                                                      "consensus_threshold": 0.8})
    assert response.status_code == 302
    event = only_event(alpha, count)
    assert event.action == "settings_changed" and event.target_kind == "tenant"
    assert_actor(event, boss)
    assert event.changes["panel_defaults.consensus_threshold"]["to"] == 0.8


def test_users_created_their_roles_changed_deactivated_and_reactivated(alpha, boss, boss_pages):
    count = len(events(alpha))
    assert boss_pages.post("/settings/users/", {"username": "newbie", "password": "long-enough-pass-9",
                                                "role": "member"}).status_code == 302
    with schema_context(alpha.schema_name):
        newbie = get_user_model().objects.get(username="newbie")
    steps = [
        ("user_created", None, {"role": {"from": None, "to": "member"}}),
        ("user_role_changed", lambda: boss_pages.post(f"/settings/users/{newbie.pk}/role/", {"role": "admin"}),
         {"role": {"from": "member", "to": "admin"}}),
        ("user_deactivated", lambda: boss_pages.post(f"/settings/users/{newbie.pk}/active/", {"active": "0"}),
         {"is_active": {"from": True, "to": False}}),
        ("user_reactivated", lambda: boss_pages.post(f"/settings/users/{newbie.pk}/active/", {"active": "1"}),
         {"is_active": {"from": False, "to": True}}),
    ]
    for action, step, changes in steps:
        if step is not None:
            assert step().status_code == 302
        event = only_event(alpha, count)
        count += 1
        assert (event.action, event.target_kind, event.target_id, event.target_label) == (
            action, "user", newbie.pk, "newbie")
        assert_actor(event, boss)
        assert event.changes == changes


def test_tokens_created_replaced_and_revoked_by_their_user(alpha, boss, boss_pages):
    count = len(events(alpha))
    for expected in ({"replaced": False}, {"replaced": True}):
        response = boss_pages.post("/settings/tokens/", {"action": "create"})
        assert response.status_code == 200
        event = only_event(alpha, count)
        count += 1
        assert (event.action, event.target_kind, event.target_id) == ("token_created", "token", boss.pk)
        assert_actor(event, boss)
        assert event.changes == expected
        key = response.context["new_key"]
        assert key not in json.dumps(event.changes) and key not in event.target_label
    assert boss_pages.post("/settings/tokens/", {"action": "revoke"}).status_code == 302
    assert only_event(alpha, count).action == "token_revoked"
    count += 1
    assert boss_pages.post("/settings/tokens/", {"action": "revoke"}).status_code == 302  # nothing to revoke
    assert len(events(alpha)) == count


def test_a_token_obtained_with_the_password_is_audited_once(alpha, mia):
    count = len(events(alpha))
    client = api_client(alpha)
    for _ in range(2):
        response = client.post("/api/v1/auth/token/", {"username": "mia", "password": PASSWORD}, format="json")
        assert response.status_code == 200
    event = only_event(alpha, count)  # the second call returned the same token
    assert event.action == "token_created"
    assert_actor(event, mia)
    assert response.json()["token"] not in json.dumps(event.changes)


def test_a_document_deleted_through_the_api(alpha, boss, boss_api, media_root):
    document = make_document(alpha, "note.md", DEVICE_NOTE, title="Pathways note", user=boss)
    count = len(events(alpha))
    assert boss_api.delete(f"/api/v1/documents/{document.pk}/").status_code == 204
    event = only_event(alpha, count)
    assert (event.action, event.target_kind, event.target_id, event.target_label) == (
        "document_deleted", "document", document.pk, "Pathways note")
    assert_actor(event, boss)


def test_a_panel_cancelled_through_the_api_and_the_page(alpha, catalog, boss, boss_api, boss_pages):
    for cancel in (lambda panel: boss_api.post(f"/api/v1/panels/{panel.pk}/cancel/"),
                   lambda panel: boss_pages.post(f"/panels/{panel.pk}/cancel/")):
        panel = make_panel(alpha, boss, query="Should we cancel this audited panel before it runs?")
        count = len(events(alpha))
        assert cancel(panel).status_code in (200, 302)
        event = only_event(alpha, count)
        assert (event.action, event.target_kind, event.target_id) == ("panel_cancelled", "panel", panel.pk)
        assert event.target_label.startswith("Should we cancel this audited panel")
        assert_actor(event, boss)


def test_a_tenant_created_by_a_command_is_audited_as_the_system(alpha):
    event = AuditEvent.objects.filter(tenant=alpha, action="tenant_created").get()
    assert (event.actor_kind, event.actor_id, event.actor_username) == ("system", None, "")
    assert (event.target_kind, event.target_id, event.changes) == ("tenant", alpha.pk,
                                                                    {"tier": {"from": None, "to": "professional"}})


def tenant_form(tenant, **changes) -> dict:
    """The platform admin's change form for `tenant`, as a browser posts it."""
    domain = tenant.domains.get()
    data = {
        "name": tenant.name, "tier": tenant.tier, "status": tenant.status, "status_reason": tenant.status_reason,
        **{section: json.dumps(getattr(tenant, section)) for section in
           ("features", "limits", "branding", "panel_defaults", "llm")},
        "llm_api_key": "",
        "domains-TOTAL_FORMS": "1", "domains-INITIAL_FORMS": "1", "domains-MIN_NUM_FORMS": "0",
        "domains-MAX_NUM_FORMS": "1000", "domains-0-id": str(domain.pk), "domains-0-tenant": str(tenant.pk),
        "domains-0-domain": domain.domain, "domains-0-is_primary": "on", "_save": "Save",
    }
    return {**data, **changes}


def test_platform_admin_plan_change_suspension_and_llm_key(alpha, root, platform):
    from tenants.billing.models import PlanChange

    change = f"/admin/tenants/tenant/{alpha.pk}/change/"
    count = len(events(alpha))
    assert platform.post(change, tenant_form(alpha, tier="enterprise")).status_code == 302
    event = only_event(alpha, count)
    assert event.action == "plan_changed" and event.changes["tier"] == {"from": "professional", "to": "enterprise"}
    assert_actor(event, root, kind="platform_admin")
    assert PlanChange.objects.filter(tenant=alpha, changed_by=root).count() == 1  # written in the same place

    count += 1
    alpha.refresh_from_db()
    assert platform.post(change, tenant_form(alpha, llm_api_key=LLM_KEY)).status_code == 302
    event = only_event(alpha, count)
    assert event.action == "settings_changed" and event.changes == {"llm_api_key": "changed"}
    assert_actor(event, root, kind="platform_admin")

    count += 1
    response = platform.post("/admin/tenants/tenant/", {"action": "suspend", "_selected_action": [alpha.pk]})
    assert response.status_code == 302
    event = only_event(alpha, count)
    assert event.action == "tenant_suspended"
    assert event.changes["status"] == {"from": "active", "to": "suspended"}
    assert_actor(event, root, kind="platform_admin")


def test_a_tenant_added_in_the_platform_admin_is_audited_with_its_admin(root, platform):
    from tenants.models import Tenant

    data = {
        "name": "Gamma Audit", "schema_name": "gamma_audit", "tier": "starter", "status": "active",
        "status_reason": "", "features": "{}", "limits": "{}", "branding": "{}", "panel_defaults": "{}", "llm": "{}",
        "llm_api_key": "", "domains-TOTAL_FORMS": "1", "domains-INITIAL_FORMS": "0", "domains-MIN_NUM_FORMS": "0",
        "domains-MAX_NUM_FORMS": "1000", "domains-0-domain": "gamma-audit.localhost", "domains-0-is_primary": "on",
        "_save": "Save",
    }
    response = platform.post("/admin/tenants/tenant/add/", data)
    assert response.status_code == 302, response.content[-2000:]
    [event] = events(Tenant.objects.get(schema_name="gamma_audit"))  # its schema goes with the test's rollback
    assert (event.action, event.target_label) == ("tenant_created", "Gamma Audit")
    assert_actor(event, root, kind="platform_admin")


# --- A refused or failed change writes nothing -------------------------------------------


def test_refused_changes_write_no_event(alpha, catalog, boss, mia, boss_pages, boss_api, media_root):
    document = make_document(alpha, "note.md", DEVICE_NOTE, title="Boss note", user=boss)
    panel = make_panel(alpha, boss)
    boss_api.post(f"/api/v1/panels/{panel.pk}/cancel/")
    count = len(events(alpha))
    mia_api = api_client(alpha, token=make_token(alpha, mia))
    refused = [
        boss_pages.post("/settings/branding/", {"display_name": "X", "primary_color": "red; x"}),
        boss_pages.post("/settings/defaults/", {"panel_type": "structured", "rounds": 99, "consensus_threshold": 2}),
        boss_pages.post("/settings/users/", {"username": "boss", "password": "long-enough-pass-9", "role": "member"}),
        boss_pages.post("/settings/users/", {"username": "weak", "password": "1", "role": "member"}),
        mia_api.delete(f"/api/v1/documents/{document.pk}/"),  # not hers
        boss_api.post(f"/api/v1/panels/{panel.pk}/cancel/"),  # already cancelled
        api_client(alpha).post("/api/v1/auth/token/", {"username": "mia", "password": "wrong"}, format="json"),
    ]
    assert [response.status_code for response in refused] == [400, 400, 400, 400, 403, 409, 400]
    # Refused with a message, no status change: own demotion; a role or state it already has.
    boss_pages.post(f"/settings/users/{boss.pk}/role/", {"role": "member"})
    boss_pages.post(f"/settings/users/{mia.pk}/role/", {"role": "member"})
    boss_pages.post(f"/settings/users/{mia.pk}/active/", {"active": "1"})
    assert len(events(alpha)) == count


def test_an_event_is_rolled_back_with_its_change(alpha, boss):
    """Written in the change's transaction: a change undone leaves no event."""
    from django.db import transaction

    from tenants.services import token_create

    count = len(events(alpha))
    with schema_context(alpha.schema_name):
        with pytest.raises(RuntimeError), transaction.atomic():
            token_create(user=boss)
            assert len(events(alpha)) == count + 1
            raise RuntimeError("the request failed after the change")
    assert len(events(alpha)) == count


# --- Who reads the trail -----------------------------------------------------------------


@pytest.fixture
def two_trails(alpha, beta, boss, media_root):
    """Events in both tenants, with colliding actor and target ids, each naming its tenant."""
    globex_boss = make_user(beta, "globexboss", PASSWORD, is_admin=True)
    for tenant, user, mark in ((alpha, boss, "ACMEAUDIT"), (beta, globex_boss, "GLOBEXAUDIT")):
        document = make_document(tenant, "note.md", DEVICE_NOTE, title=f"Note {mark}", user=user)
        with schema_context(tenant.schema_name):
            from rag.services import document_delete

            document_delete(document_id=document.pk, user=user)
            audit_record(tenant=tenant, action="user_created", actor=None, target_kind="user", target_id=1,
                         target_label=f"user {mark}")
    return globex_boss


def test_tenant_admins_read_only_their_tenants_trail(alpha, beta, boss, boss_api, boss_pages, two_trails):
    listing = boss_api.get("/api/v1/audit/")
    assert listing.status_code == 200
    body = listing.json()
    labels = [event["target"]["label"] for event in body["results"]]
    assert "Note ACMEAUDIT" in labels and "user ACMEAUDIT" in labels
    assert "GLOBEXAUDIT" not in listing.content.decode()
    assert body["count"] == AuditEvent.objects.filter(tenant=alpha).count()
    deleted = next(event for event in body["results"] if event["action"] == "document_deleted")
    assert deleted["actor"] == {"kind": "tenant_user", "id": boss.pk, "username": "boss"}
    assert deleted["target"]["id"] is not None and set(deleted) == {
        "id", "occurred_at", "action", "actor", "target", "changes"}
    page = boss_pages.get("/settings/audit/")
    assert page.status_code == 200
    assert "Note ACMEAUDIT" in page.content.decode() and "GLOBEXAUDIT" not in page.content.decode()


def test_another_tenants_host_or_header_never_shows_its_trail(alpha, beta, boss, two_trails):
    token = make_token(alpha, boss)
    for client in (api_client(beta, token=token), api_client(token=token, HTTP_X_TENANT_ID="beta"),
                   api_client(alpha, token=token, HTTP_X_TENANT_ID="beta")):
        response = client.get("/api/v1/audit/")
        assert response.status_code in (401, 403), response.content
        assert b"AUDIT" not in response.content and b'"results"' not in response.content
    globex = page_client(beta)
    globex.cookies["sessionid"] = page_client(alpha, boss).cookies["sessionid"].value
    response = globex.get("/settings/audit/")
    assert response.status_code == 302 and b"AUDIT" not in response.content


def test_the_trail_filters_by_action_and_pages(alpha, boss_api, boss_pages, two_trails):
    response = boss_api.get("/api/v1/audit/", {"action": "document_deleted"})
    assert [event["action"] for event in response.json()["results"]] == ["document_deleted"]
    response = boss_api.get("/api/v1/audit/", {"page_size": 1})
    assert len(response.json()["results"]) == 1 and response.json()["next"]
    page = boss_pages.get("/settings/audit/", {"action": "document_deleted"}).content.decode()
    assert "Note ACMEAUDIT" in page and "user ACMEAUDIT" not in page


def test_an_unknown_action_is_a_400_in_the_one_error_shape(boss_api, boss_pages):
    response = boss_api.get("/api/v1/audit/", {"action": "everything"})
    assert response.status_code == 400
    assert set(response.json()["error"]) == {"code", "message", "details"}
    assert "action" in response.json()["error"]["details"]["fields"]
    assert boss_pages.get("/settings/audit/", {"action": "everything"}).status_code == 400


def test_members_are_refused(alpha, mia, two_trails):
    response = api_client(alpha, token=make_token(alpha, mia)).get("/api/v1/audit/")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "admin_only"
    assert b"ACMEAUDIT" not in response.content
    page = page_client(alpha, mia).get("/settings/audit/")
    assert page.status_code == 403 and b"ACMEAUDIT" not in page.content


def test_the_settings_navigation_links_the_trail(boss_pages):
    assert 'href="/settings/audit/"' in boss_pages.get("/settings/").content.decode()


def test_platform_admins_list_every_tenant_and_cannot_edit(alpha, beta, platform, two_trails):
    listing = platform.get("/admin/audit/auditevent/")
    text = listing.content.decode()
    assert listing.status_code == 200
    assert "Note ACMEAUDIT" in text and "Note GLOBEXAUDIT" in text
    event = AuditEvent.objects.filter(tenant=beta).first()
    assert platform.get("/admin/audit/auditevent/add/").status_code == 403
    assert platform.post(f"/admin/audit/auditevent/{event.pk}/change/", {"target_label": "edited"}).status_code == 403
    assert platform.post(f"/admin/audit/auditevent/{event.pk}/delete/", {"post": "yes"}).status_code == 403
    assert platform.post("/admin/audit/auditevent/", {"action": "delete_selected",
                                                       "_selected_action": [event.pk]}).status_code in (200, 302)
    event.refresh_from_db()
    assert event.target_label != "edited"


def test_tenant_admins_cannot_reach_the_trail_in_their_admin_site(alpha, boss_pages):
    assert boss_pages.get("/admin/audit/auditevent/").status_code == 404


def test_secrets_never_appear(alpha, boss, boss_pages, platform):
    """The LLM key set by a platform admin, and API tokens: in no event, page or answer."""
    assert platform.post(f"/admin/tenants/tenant/{alpha.pk}/change/",
                         tenant_form(alpha, llm_api_key=LLM_KEY)).status_code == 302
    created = boss_pages.post("/settings/tokens/", {"action": "create"}).context["new_key"]
    stored = json.dumps([[event.changes, event.target_label] for event in AuditEvent.objects.all()])
    answers = [
        api_client(alpha, token=created).get("/api/v1/audit/").content.decode(),
        boss_pages.get("/settings/audit/").content.decode(),
        platform.get("/admin/audit/auditevent/").content.decode(),
    ]
    for text in (stored, *answers):
        assert LLM_KEY not in text and LLM_KEY[-12:] not in text
        assert created not in text
    assert "llm_api_key" in answers[0] and "changed" in answers[0]


def test_users_and_tokens_changed_in_the_tenants_admin_site_are_audited(alpha, boss, boss_pages):
    """The tenant's own /admin/ site edits users and tokens with Django's forms, not the
    Settings pages: what a tenant admin does there is in the trail all the same."""
    count = len(events(alpha))
    added = boss_pages.post("/admin/auth/user/add/", {
        "username": "adminsite-user", "password1": "long-enough-pass-9", "password2": "long-enough-pass-9",
        "usable_password": "true"})
    assert added.status_code == 302, added.content[-2000:]
    with schema_context(alpha.schema_name):
        user = get_user_model().objects.get(username="adminsite-user")
    created = only_event(alpha, count)
    assert (created.action, created.target_id, created.changes) == ("user_created", user.pk,
                                                                      {"role": {"from": None, "to": "member"}})
    assert_actor(created, boss)
    changed = boss_pages.post(f"/admin/auth/user/{user.pk}/change/", {
        "username": "adminsite-user", "is_staff": "on", "date_joined_0": "2026-11-30", "date_joined_1": "07:00:00",
        "initial-date_joined_0": "2026-11-30", "initial-date_joined_1": "07:00:00"})
    assert changed.status_code == 302, changed.content[-2000:]
    role = events(alpha)[count + 1:]
    assert [(e.action, e.changes) for e in role] == [
        ("user_role_changed", {"role": {"from": "member", "to": "admin"}}),
        ("user_deactivated", {"is_active": {"from": True, "to": False}})]  # the unticked "active" box
    count = len(events(alpha))
    assert boss_pages.post("/admin/authtoken/token/add/", {"user": user.pk}).status_code == 302
    with schema_context(alpha.schema_name):
        from rest_framework.authtoken.models import Token
        key = Token.objects.get(user=user).key
    token_event = only_event(alpha, count)
    assert (token_event.action, token_event.target_id) == ("token_created", user.pk)
    assert key not in json.dumps(token_event.changes)
    revoked = boss_pages.post(f"/admin/authtoken/token/{user.pk}/delete/", {"post": "yes"})  # DRF: by user
    assert revoked.status_code == 302, revoked
    assert revoked["Location"] == "/admin/authtoken/token/", revoked["Location"]
    assert only_event(alpha, count + 1).action == "token_revoked"
    assert boss_pages.post(f"/admin/auth/user/{user.pk}/delete/", {"post": "yes"}).status_code == 302
    deleted = only_event(alpha, count + 2)
    assert (deleted.action, deleted.target_label, deleted.changes) == ("user_deactivated", "adminsite-user",
                                                                        {"deleted": True})
