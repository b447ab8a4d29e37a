"""API rate limits (tenants/api/throttling.py): per user and per tenant, from the tenant's
configuration, counted in Redis under the tenant's schema; over a limit: 429 `throttled`
with Retry-After. Small limits are set on the test tenants rather than sending thousands
of requests. A test that sends requests against a small limit starts in a fresh minute's
window with time to spare (`window`), since the counters start again every clock minute."""

import json
import time

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django_tenants.utils import schema_context

from tenants.api.throttling import PERIOD_SECONDS
from tenants.configuration import TIER_PRESETS, ConfigurationError, TenantConfiguration
from tenants.services import tenant_update_configuration
from tests.conftest import api_client, make_token

pytestmark = pytest.mark.django_db

URL = "/api/v1/tenant/"


def redis():
    return cache._cache.get_client(write=True)


def counter_keys(schema_name: str) -> dict[str, int]:
    """The API counters in Redis under a schema's key prefix, with their counts."""
    client = redis()
    keys = sorted(client.scan_iter(match=f"{schema_name}:*api-throttle:*", count=500))
    return {key.decode(): int(client.get(key)) for key in keys}


def forget_counters():
    client = redis()
    keys = list(client.scan_iter(match="*api-throttle:*", count=500))
    if keys:
        client.delete(*keys)


@pytest.fixture(autouse=True)
def window():
    """No counts from earlier tests, and at least 15 s left in the current minute, so no
    test's requests straddle two windows."""
    left = PERIOD_SECONDS - time.time() % PERIOD_SECONDS
    if left < 15:
        time.sleep(left + 0.1)
    forget_counters()
    yield
    forget_counters()


def make_user(tenant, username: str):
    """A user for tokens and sessions: no password, so no slow hashing."""
    with schema_context(tenant.schema_name):
        return get_user_model().objects.create_user(username)


def limit(tenant, *, per_user: int, per_tenant: int):
    """Through the configuration service (the platform admin's form: platform_admin_sets_limits)."""
    tenant_update_configuration(tenant=tenant, limits={
        "api_requests_per_minute_per_user": per_user, "api_requests_per_minute": per_tenant})


def assert_throttled(response, limit_name: str, rate: int):
    assert response.status_code == 429, response.content
    retry_after = int(response["Retry-After"])
    assert 1 <= retry_after <= PERIOD_SECONDS
    error = response.json()["error"]
    assert error["code"] == "throttled"
    assert f"{rate} API requests a minute" in error["message"]
    assert f"Try again in {retry_after} second" in error["message"]
    assert error["details"] == {"limit": limit_name, "value": rate, "rate": f"{rate}/minute",
                                "retry_after_seconds": retry_after}


def test_a_user_over_their_limit_gets_429_and_another_user_of_the_tenant_still_passes(alpha):
    limit(alpha, per_user=3, per_tenant=100)
    alice = api_client(alpha, token=make_token(alpha, make_user(alpha, "alice")))
    bob = api_client(alpha, token=make_token(alpha, make_user(alpha, "bob")))

    assert [alice.get(URL).status_code for _ in range(3)] == [200, 200, 200]
    refused = alice.get(URL)
    assert_throttled(refused, "api_requests_per_minute_per_user", 3)
    assert "your account" in refused.json()["error"]["message"]
    assert bob.get(URL).status_code == 200
    # Every tenant endpoint is behind the same limit (a write too, refused before it runs).
    assert alice.post("/api/v1/panels/", {"query": "x"}, format="json").status_code == 429


def test_the_tenant_limit_stops_every_user_of_the_tenant(alpha):
    limit(alpha, per_user=100, per_tenant=4)
    clients = [api_client(alpha, token=make_token(alpha, make_user(alpha, name))) for name in ("ann", "ben", "cat")]

    assert [client.get(URL).status_code for client in clients + clients[:1]] == [200, 200, 200, 200]
    for client in clients:
        refused = client.get(URL)
        assert_throttled(refused, "api_requests_per_minute", 4)
        assert "this tenant" in refused.json()["error"]["message"]
    # A session (the pages' own API calls) counts for the same user and tenant.
    session = api_client(alpha)
    with schema_context(alpha.schema_name):
        session.force_login(get_user_model().objects.get(username="ann"))
    assert session.get(URL).status_code == 429


def test_a_user_over_their_own_limit_does_not_use_up_the_tenants(alpha):
    limit(alpha, per_user=2, per_tenant=5)
    greedy = api_client(alpha, token=make_token(alpha, make_user(alpha, "greedy")))
    assert [greedy.get(URL).status_code for _ in range(10)] == [200, 200] + [429] * 8
    other = api_client(alpha, token=make_token(alpha, make_user(alpha, "other")))
    assert [other.get(URL).status_code for _ in range(2)] == [200, 200]


def twins(alpha, beta):
    """A user with the same id and the same username in both schemas, each with a token."""
    user_model = get_user_model()
    ids = []
    for tenant in (alpha, beta):
        with schema_context(tenant.schema_name):
            ids.append(user_model.objects.order_by("-id").values_list("id", flat=True).first() or 0)
    twin_id = max(ids) + 1000
    tokens = []
    for tenant in (alpha, beta):
        with schema_context(tenant.schema_name):
            user = user_model.objects.create_user("twin", id=twin_id)
        tokens.append(make_token(tenant, user))
    return twin_id, tokens


def test_one_tenant_exhausting_its_limits_never_throttles_another_even_for_the_same_user_id(alpha, beta):
    limit(alpha, per_user=2, per_tenant=3)
    limit(beta, per_user=2, per_tenant=3)
    twin_id, (alpha_token, beta_token) = twins(alpha, beta)
    alpha_twin, beta_twin = api_client(alpha, token=alpha_token), api_client(beta, token=beta_token)
    alpha_other = api_client(alpha, token=make_token(alpha, make_user(alpha, "other")))

    assert [alpha_twin.get(URL).status_code for _ in range(4)] == [200, 200, 429, 429]
    assert [alpha_other.get(URL).status_code for _ in range(3)] == [200, 429, 429]  # alpha's 3 are used
    # globex's user with the same id and name, and the tenant as a whole, have their own counts.
    assert [beta_twin.get(URL).status_code for _ in range(2)] == [200, 200]
    assert beta_twin.get(URL).status_code == 429  # its own limit, counted in its own schema
    # Through X-Tenant-ID on the platform host as well (a gateway client).
    platform_beta = api_client(host="localhost", token=beta_token, HTTP_X_TENANT_ID=beta.schema_name)
    assert_throttled(platform_beta.get(URL), "api_requests_per_minute_per_user", 2)

    alpha_counts, beta_counts = counter_keys("alpha"), counter_keys("beta")
    assert not set(alpha_counts) & set(beta_counts)
    user_count = {schema: next(count for key, count in counts.items() if f":api-throttle:user:{twin_id}:" in key)
                  for schema, counts in (("alpha", alpha_counts), ("beta", beta_counts))}
    assert user_count == {"alpha": 4, "beta": 4}
    tenant_count = {schema: next(count for key, count in counts.items() if ":api-throttle:tenant:" in key)
                    for schema, counts in (("alpha", alpha_counts), ("beta", beta_counts))}
    # alpha: twin's 2 that passed, other's first 2 (the second over the tenant's 3); a request
    # refused by the user's own limit is not counted for the tenant. beta: twin's 2 only.
    assert tenant_count == {"alpha": 4, "beta": 2}


def platform_admin():
    """A client of the platform admin site (localhost), signed in as a platform admin."""
    with schema_context("public"):  # a request to a tenant's host leaves its schema active
        root, _ = get_user_model().objects.get_or_create(username="root", is_staff=True, is_superuser=True)
        admin = api_client(host="localhost")
        admin.force_login(root)
    return admin


def platform_admin_sets_limits(tenant, limits: dict):
    """A platform admin saves the tenant's limits in the platform admin site (localhost)."""
    admin = platform_admin()
    domain = tenant.domains.get()
    form = {
        "name": tenant.name, "tier": tenant.tier, "status": tenant.status, "status_reason": tenant.status_reason,
        **{section: json.dumps(getattr(tenant, section)) for section in ("features", "branding", "panel_defaults", "llm")},
        "limits": json.dumps(limits), "llm_api_key": "",
        "domains-TOTAL_FORMS": "1", "domains-INITIAL_FORMS": "1", "domains-MIN_NUM_FORMS": "0",
        "domains-MAX_NUM_FORMS": "1000", "domains-0-id": str(domain.pk), "domains-0-tenant": str(tenant.pk),
        "domains-0-domain": domain.domain, "domains-0-is_primary": "on", "_save": "Save",
    }
    response = admin.post(f"/admin/tenants/tenant/{tenant.pk}/change/", form)
    assert response.status_code == 302 and response["Location"] == "/admin/tenants/tenant/", response.content[-2000:]


def test_a_platform_admin_raising_the_limit_applies_at_once(alpha):
    limit(alpha, per_user=1, per_tenant=1)
    client = api_client(alpha, token=make_token(alpha, make_user(alpha, "alice")))
    assert [client.get(URL).status_code for _ in range(2)] == [200, 429]

    platform_admin_sets_limits(alpha, {"api_requests_per_minute_per_user": 3, "api_requests_per_minute": 3})
    assert [client.get(URL).status_code for _ in range(2)] == [200, 429]  # 3 of 3 used, then refused

    platform_admin_sets_limits(alpha, {"api_requests_per_minute_per_user": 10, "api_requests_per_minute": 10})
    body = client.get(URL).json()
    assert body["limits"]["api_requests_per_minute_per_user"] == 10
    assert body["limits"]["api_requests_per_minute"] == 10


def test_a_limit_of_zero_is_refused_in_the_platform_admin(alpha):
    admin = platform_admin()
    refused = admin.post(f"/admin/tenants/tenant/{alpha.pk}/change/", {
        "name": alpha.name, "tier": alpha.tier, "status": alpha.status, "features": "{}", "branding": "{}",
        "panel_defaults": "{}", "llm": "{}", "limits": json.dumps({"api_requests_per_minute": 0}),
        "domains-TOTAL_FORMS": "0", "domains-INITIAL_FORMS": "0", "_save": "Save"})
    assert refused.status_code == 200  # the form again, with the error
    assert "limits.api_requests_per_minute: must be at least 1" in refused.content.decode()
    alpha.refresh_from_db()
    assert "api_requests_per_minute" not in alpha.limits


def test_the_counters_live_in_redis_under_the_tenants_schema_not_in_the_process(alpha):
    limit(alpha, per_user=2, per_tenant=100)
    user = make_user(alpha, "alice")
    client = api_client(alpha, token=make_token(alpha, user))
    assert [client.get(URL).status_code for _ in range(3)] == [200, 200, 429]

    window = int(time.time() // PERIOD_SECONDS)
    user_key = f"alpha:askpanel:1:api-throttle:user:{user.pk}:{window}"
    assert counter_keys("alpha") == {user_key: 3, f"alpha:askpanel:1:api-throttle:tenant:{window}": 2}
    assert 0 < redis().ttl(user_key) <= 2 * PERIOD_SECONDS
    # Whatever Redis says goes: with its count gone, the user passes again.
    redis().delete(user_key)
    assert client.get(URL).status_code == 200


def test_signed_out_requests_are_counted_per_client_address_and_not_in_the_tenants_count(alpha):
    limit(alpha, per_user=2, per_tenant=1)
    stranger = api_client(alpha)
    wrong = {"username": "nobody", "password": "wrong-pass"}

    def sign_in(address):
        return stranger.post("/api/v1/auth/token/", wrong, format="json", REMOTE_ADDR=address)

    assert [sign_in("10.0.0.1").status_code for _ in range(2)] == [400, 400]
    refused = sign_in("10.0.0.1")
    assert_throttled(refused, "api_requests_per_minute_per_user", 2)
    assert "your address" in refused.json()["error"]["message"]
    # A forged X-Forwarded-For does not buy a new count (NUM_PROXIES 0).
    forged = stranger.post("/api/v1/auth/token/", wrong, format="json", REMOTE_ADDR="10.0.0.1",
                           HTTP_X_FORWARDED_FOR="10.9.9.9")
    assert forged.status_code == 429
    assert sign_in("10.0.0.2").status_code == 400
    # The tenant's one request a minute is still there for its users.
    member = api_client(alpha, token=make_token(alpha, make_user(alpha, "alice")))
    assert member.get(URL).status_code == 200


def test_health_and_the_schema_are_not_rate_limited(alpha, client):
    limit(alpha, per_user=1, per_tenant=1)
    member = api_client(alpha, token=make_token(alpha, make_user(alpha, "alice")))
    assert [member.get(URL).status_code for _ in range(2)] == [200, 429]
    assert member.get("/api/v1/health/").status_code in (200, 503)  # not 429
    assert client.get("/api/v1/schema/?format=json", HTTP_HOST="localhost").status_code == 200


def test_the_rate_limits_come_with_every_tier_and_are_validated_like_the_others():
    starter, professional, enterprise = (TenantConfiguration.build(tier=tier).limits for tier in TIER_PRESETS)
    for name in ("api_requests_per_minute", "api_requests_per_minute_per_user"):
        assert 0 < getattr(starter, name) < getattr(professional, name) < getattr(enterprise, name)
        assert getattr(TenantConfiguration.build(tier="starter", limits={name: 7}).limits, name) == 7
        for value, message in ((0, "at least 1"), (-1, "cannot be negative"), ("100", "whole number"),
                               (True, "whole number"), (10_000_000, "cannot exceed")):
            with pytest.raises(ConfigurationError, match=message) as refused:
                TenantConfiguration.build(tier="starter", limits={name: value})
            assert refused.value.field == f"limits.{name}"
