"""The routing cache (tenants/selectors.py): answers shared through Redis that are
forgotten at once when a tenant changes, never mixed between tenants, and never holding
a secret."""

import logging
import secrets

import pytest
import redis
from django.conf import settings
from django.test import override_settings

from llm.providers import provider_settings
from tenants.models import Tenant
from tenants.selectors import tenant_for_hostname, tenant_for_schema
from tenants.services import tenant_update_configuration
from tests.conftest import api_client, make_token, make_user, tenant_domain

pytestmark = pytest.mark.django_db


def a_secret_key() -> str:
    return "sk-routing-" + secrets.token_hex(20)


def set_llm_key(tenant, key: str) -> None:
    tenant.llm_api_key = key
    tenant.save()


def fragments(key: str, size: int = 8) -> set[str]:
    """Every run of `size` characters of the key's random part, and the key itself."""
    random_part = key.removeprefix("sk-routing-")
    return {key} | {random_part[i:i + size] for i in range(len(random_part) - size + 1)}


def everything_in_redis() -> list[bytes]:
    """Every key and every value in every database of the test Redis."""
    found = []
    databases = redis.Redis.from_url(settings.REDIS_URL).info("keyspace")
    for name in databases:  # "db0", "db1", ...
        client = redis.Redis.from_url(settings.REDIS_URL, db=int(name.removeprefix("db")))
        for key in client.scan_iter(count=1000):
            found.append(key)
            kind = client.type(key)
            if kind == b"string":
                found.append(client.get(key) or b"")
            elif kind == b"list":
                found += client.lrange(key, 0, -1)
            elif kind == b"set":
                found += client.smembers(key)
            elif kind == b"zset":
                found += client.zrange(key, 0, -1)
            elif kind == b"hash":
                for field, value in client.hgetall(key).items():
                    found += [field, value]
            elif kind == b"stream":
                for _, entry in client.xrange(key):
                    for field, value in entry.items():
                        found += [field, value]
    return found


def test_routing_never_puts_a_tenant_llm_key_in_redis_or_the_logs(alpha, alpha_user, caplog):
    key = a_secret_key()
    set_llm_key(alpha, key)
    caplog.set_level(logging.DEBUG)
    token = make_token(alpha, alpha_user)

    for client in (api_client(alpha, token=token), api_client(token=token, HTTP_X_TENANT_ID="alpha")):
        for _ in range(2):  # the first request fills the cache, the second is answered from it
            response = client.get("/api/v1/tenant/")
            assert response.status_code == 200
            assert response.json()["llm"]["api_key"] == key[:3] + "…" + key[-4:]
    assert provider_settings(tenant_for_hostname(tenant_domain("alpha"))).api_key == key

    stored = everything_in_redis()
    assert any(b"routing:host:" + tenant_domain("alpha").encode() in item for item in stored)  # routing cached
    for fragment in fragments(key):
        assert not any(fragment.encode() in item for item in stored), fragment
        assert fragment not in caplog.text


def test_a_routed_tenant_reads_its_llm_key_from_the_database_when_needed(alpha):
    set_llm_key(alpha, a_secret_key())
    tenant_for_hostname(tenant_domain("alpha"))  # cached now
    changed = a_secret_key()
    Tenant.objects.filter(pk=alpha.pk).update(llm_api_key=changed)  # not through a service: nothing forgotten

    assert tenant_for_hostname(tenant_domain("alpha")).llm_api_key == changed
    assert provider_settings(tenant_for_schema("alpha")).api_key == changed


def test_a_cached_tenant_equals_its_row(alpha):
    set_llm_key(alpha, a_secret_key())
    tenant_for_hostname(tenant_domain("alpha"))
    routed = tenant_for_hostname(tenant_domain("alpha"))
    row = Tenant.objects.get(pk=alpha.pk)
    for field in Tenant._meta.concrete_fields:
        assert getattr(routed, field.attname) == getattr(row, field.attname), field.attname
    assert routed.configuration == row.configuration


def test_saving_a_routed_tenant_keeps_its_llm_key(alpha):
    key = a_secret_key()
    set_llm_key(alpha, key)
    tenant_for_hostname(tenant_domain("alpha"))
    routed = tenant_for_hostname(tenant_domain("alpha"))
    tenant_update_configuration(tenant=routed, branding={"primary_color": "#123456"})
    row = Tenant.objects.get(pk=alpha.pk)
    assert row.llm_api_key == key
    assert row.branding["primary_color"] == "#123456"


def test_a_changed_tenant_is_seen_at_once(alpha, alpha_api):
    assert alpha_api.get("/api/v1/tenant/").json()["branding"]["display_name"] == "Alpha Pharma"  # cached
    tenant_update_configuration(tenant=alpha, branding={"display_name": "Alpha Labs"})
    assert alpha_api.get("/api/v1/tenant/").json()["branding"]["display_name"] == "Alpha Labs"


def test_two_tenants_never_get_each_others_cached_routing(alpha, beta, alpha_user, beta_user):
    alpha_key, beta_key = a_secret_key(), a_secret_key()
    set_llm_key(alpha, alpha_key)
    set_llm_key(beta, beta_key)
    alpha_token, beta_token = make_token(alpha, alpha_user), make_token(beta, beta_user)
    clients = {
        "alpha": [api_client(alpha, token=alpha_token), api_client(token=alpha_token, HTTP_X_TENANT_ID="alpha")],
        "beta": [api_client(beta, token=beta_token), api_client(token=beta_token, HTTP_X_TENANT_ID="beta")],
    }
    for _ in range(3):  # in turn, with every answer cached after the first round
        for tenant_id, tenant_clients in clients.items():
            for client in tenant_clients:
                response = client.get("/api/v1/tenant/")
                assert response.status_code == 200
                assert response.json()["id"] == response["X-Tenant-ID"] == tenant_id
    assert provider_settings(tenant_for_hostname(tenant_domain("alpha"))).api_key == alpha_key
    assert provider_settings(tenant_for_hostname(tenant_domain("beta"))).api_key == beta_key


@override_settings(USE_X_FORWARDED_HOST=True)
def test_routing_follows_the_host_django_validated(alpha, beta, alpha_user):
    assert api_client(beta).get("/api/v1/tenant/")["X-Tenant-ID"] == "beta"  # beta's answer is cached
    client = api_client(beta, token=make_token(alpha, alpha_user), HTTP_X_FORWARDED_HOST=tenant_domain("alpha"))
    for _ in range(2):
        response = client.get("/api/v1/tenant/")
        assert response.status_code == 200
        assert response.json()["id"] == response["X-Tenant-ID"] == "alpha"


@override_settings(USE_X_FORWARDED_HOST=True)
def test_a_token_is_still_refused_on_the_tenant_routing_chose(alpha, beta):
    token = make_token(beta, make_user(beta, "bob"))
    client = api_client(beta, token=token, HTTP_X_FORWARDED_HOST=tenant_domain("alpha"))
    response = client.get("/api/v1/tenant/")
    assert response.status_code == 401
    assert response["X-Tenant-ID"] == "alpha"
