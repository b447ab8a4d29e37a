"""The reads routing depends on: the Redis cache's own GET path, reads sent ahead of
need (`get_soon`), and the WSGI handler sending a request's routing reads early.

The rest of the suite's API tests already go through the early reads (tests/conftest.py
routes its client as config/wsgi.py does); these tests pin down what they must never do:
answer a read with another key's reply, or route by a guess."""

import gc
import os

import pytest
from django.core.cache import caches
from django.test import override_settings

from config.cache import _ReusingClient
from tests.conftest import api_client, make_token, make_user, tenant_domain

pytestmark = pytest.mark.django_db


@pytest.fixture
def cache():
    cache = caches["routing"]
    cache.set_many({"probe:a": "A", "probe:b": "B"}, 30)
    yield cache
    cache.delete_many(["probe:a", "probe:b"])


def idle_readers(cache) -> int:
    return sum(len(idle) for idle in cache._cache._readers.values())


def server_closes_idle_readers(cache) -> int:
    """Redis closes our idle reading connections, as after a restart or an idle timeout
    (only those: a worker's broker connection in the same Redis is left alone)."""
    client, killed = cache._cache.get_client(write=True), 0
    for idle in cache._cache._readers.values():
        for connection in idle:
            connection.send_command("CLIENT", "ID")
            killed += client.execute_command("CLIENT", "KILL", "ID", connection.read_response())
    return killed


class CountingReads:
    """Counts the cache reads routing makes for itself (the real reads still happen)."""

    def __init__(self, monkeypatch):
        self.count = 0
        real_get = _ReusingClient.get

        def get(client, key, default):
            self.count += 1
            return real_get(client, key, default)

        monkeypatch.setattr(_ReusingClient, "get", get)


def test_get_soon_answers_like_get_many(cache):
    pending = cache.get_soon(["probe:a", "probe:missing", "probe:b"])
    assert pending.values() == {"probe:a": "A", "probe:b": "B"}
    assert pending.values() == cache.get_many(["probe:a", "probe:missing", "probe:b"])
    pending.close()


def test_a_read_closed_unanswered_leaves_its_connection_clean_for_the_next(cache):
    cache.get("probe:a")
    before = idle_readers(cache)
    pending = cache.get_soon(["probe:a"])
    pending.close()  # nobody read the reply
    assert idle_readers(cache) == before  # the connection came back...
    assert cache.get("probe:b") == "B"  # ...and the next read gets its own reply
    assert cache.get("probe:a") == "A"


def test_an_abandoned_read_drops_its_connection_instead_of_returning_it(cache):
    cache.get("probe:a")
    before = idle_readers(cache)
    pending = cache.get_soon(["probe:a"])
    assert idle_readers(cache) == before - 1
    del pending
    gc.collect()
    assert idle_readers(cache) == before - 1  # dropped, never put back with a reply in it
    assert cache.get("probe:b") == "B"


def test_reads_survive_the_server_closing_idle_connections(cache):
    assert cache.get("probe:a") == "A"
    assert server_closes_idle_readers(cache) >= 1
    assert cache.get("probe:b") == "B"
    assert server_closes_idle_readers(cache) >= 1
    pending = cache.get_soon(["probe:a"])
    assert pending.values() == {"probe:a": "A"}


def test_a_forked_child_reads_on_its_own_connections(cache):
    assert cache.get("probe:a") == "A"  # the parent has a reading connection now
    child = os.fork()
    if child == 0:  # pragma: no cover - the child reports through its exit code
        ok = all(cache.get("probe:b") == "B" for _ in range(200))
        os._exit(0 if ok else 1)
    parent_answers = [cache.get("probe:a") for _ in range(200)]
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert set(parent_answers) == {"A"}


def test_routing_uses_the_reads_sent_ahead_and_reads_nothing_itself(alpha, alpha_api, monkeypatch):
    assert alpha_api.get("/api/v1/tenant/").status_code == 200  # the answer is now cached
    reads = CountingReads(monkeypatch)
    response = alpha_api.get("/api/v1/tenant/")
    assert response.status_code == 200
    assert response["X-Tenant-ID"] == "alpha"
    assert reads.count == 0


def test_the_tenant_header_on_the_platform_host_is_read_ahead_too(alpha, alpha_user, monkeypatch):
    client = api_client(token=make_token(alpha, alpha_user), HTTP_X_TENANT_ID="alpha")
    assert client.get("/api/v1/tenant/").status_code == 200
    reads = CountingReads(monkeypatch)
    assert client.get("/api/v1/tenant/").json()["id"] == "alpha"
    assert reads.count == 0


@override_settings(USE_X_FORWARDED_HOST=True)
def test_routing_follows_the_host_it_validates_not_the_host_read_ahead(alpha, beta, alpha_user, monkeypatch):
    # The reads are sent for Host (beta); Django's host is X-Forwarded-Host (alpha).
    assert api_client(beta).get("/api/v1/tenant/")["X-Tenant-ID"] == "beta"  # beta's answer is cached
    token = make_token(alpha, alpha_user)
    client = api_client(beta, token=token, HTTP_X_FORWARDED_HOST=tenant_domain("alpha"))
    assert client.get("/api/v1/tenant/").json()["id"] == "alpha"
    reads = CountingReads(monkeypatch)
    response = client.get("/api/v1/tenant/")
    assert response["X-Tenant-ID"] == "alpha"
    assert reads.count == 1  # beta's prefetched answer was not used: routing read alpha's


@override_settings(USE_X_FORWARDED_HOST=True)
def test_a_token_is_still_refused_on_the_tenant_routing_chose(alpha, beta):
    token = make_token(beta, make_user(beta, "bob"))
    client = api_client(beta, token=token, HTTP_X_FORWARDED_HOST=tenant_domain("alpha"))
    response = client.get("/api/v1/tenant/")
    assert response.status_code == 401
    assert response["X-Tenant-ID"] == "alpha"


def test_health_leaves_the_unread_routing_reply_behind_cleanly(alpha, beta, alpha_api):
    assert alpha_api.get("/api/v1/tenant/").status_code == 200  # alpha's answer is cached
    assert api_client(alpha).get("/api/v1/health/").status_code == 200  # alpha's reply: read by nobody
    # Another host next: a connection returned with alpha's reply unread would route it to alpha.
    beta_api = api_client(beta, token=make_token(beta, make_user(beta, "bob")))
    response = beta_api.get("/api/v1/tenant/")
    assert response.status_code == 200 and response.json()["id"] == "beta"


@pytest.mark.parametrize(
    "host, header, status, tenant_id",
    [
        ("alpha.localhost", None, 200, "alpha"),
        ("localhost", "alpha", 200, "alpha"),
        ("nobody.localhost", None, 404, None),
        ("localhost", "nosuchtenant", 404, None),
        ("beta.localhost", "alpha", 403, None),
    ],
)
def test_routing_without_reads_sent_ahead_decides_the_same(alpha, alpha_user, host, header, status, tenant_id):
    headers = {"HTTP_X_TENANT_ID": header} if header else {}
    client = api_client(host=host, token=make_token(alpha, alpha_user), prefetch=False, **headers)
    response = client.get("/api/v1/tenant/")
    assert response.status_code == status
    if tenant_id:
        assert response.json()["id"] == tenant_id


def test_nothing_is_read_ahead_when_redis_cannot_be_reached():
    from tenants.selectors import routing_prefetch

    routing = {"BACKEND": "config.cache.RedisCache", "LOCATION": "unix:///nonexistent/redis.sock"}
    with override_settings(CACHES={"default": routing, "routing": routing}):
        assert routing_prefetch({"HTTP_HOST": "alpha.localhost"}) is None
    pending = routing_prefetch({"HTTP_HOST": "alpha.localhost"})
    assert pending is not None
    pending.close()


def test_a_burst_of_concurrent_reads_leaves_a_bounded_number_of_idle_connections(cache):
    from config.cache import MAX_IDLE_READERS

    pending = [cache.get_soon(["probe:a"]) for _ in range(MAX_IDLE_READERS + 8)]  # all at once
    assert all(p.values() == {"probe:a": "A"} for p in pending)
    assert idle_readers(cache) == MAX_IDLE_READERS
    assert cache.get("probe:b") == "B"


def test_a_cached_routing_answer_rebuilds_the_whole_tenant(alpha):
    from tenants.selectors import tenant_for_hostname

    assert tenant_for_hostname(tenant_domain("alpha")).pk == alpha.pk  # read from the database, cached
    cached = tenant_for_hostname(tenant_domain("alpha"))  # rebuilt from the cached values
    for field in type(alpha)._meta.concrete_fields:
        assert getattr(cached, field.attname) == getattr(alpha, field.attname), field.attname
    assert cached.configuration == alpha.configuration
    assert not cached._state.adding and cached._state.db == "default"


def test_routing_never_reads_answers_cached_under_another_field_layout(alpha, alpha_api):
    from tenants.models import Tenant
    from tenants.selectors import _FIELDS, _layout_version

    # What code with one field fewer would have cached for alpha's host.
    older = f"routing:{_layout_version(_FIELDS[:-1])}:host:{tenant_domain('alpha')}"
    row = Tenant.objects.filter(pk=alpha.pk).values_list(*_FIELDS[:-1]).get()
    caches["routing"].set(older, row, 30)
    try:
        response = alpha_api.get("/api/v1/tenant/")
    finally:
        caches["routing"].delete(older)
    assert response.status_code == 200 and response.json()["id"] == "alpha"
