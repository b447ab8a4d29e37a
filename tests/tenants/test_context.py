"""Cross-cutting tenant context: logs, cache keys, and refusing to run without a tenant."""

import logging

import pytest
from django.core.cache import cache
from django_tenants.utils import schema_context

from tenants.context import TenantContextMissing, current_tenant
from tenants.services import tenant_cache_clear
from tests.conftest import api_client

pytestmark = pytest.mark.django_db


def test_log_records_carry_the_tenant(alpha, caplog):
    from django_tenants.log import TenantContextFilter

    logger = logging.getLogger("askpanel.test")
    logger.addFilter(TenantContextFilter())
    try:
        with caplog.at_level(logging.INFO, logger="askpanel.test"), schema_context("alpha"):
            logger.info("inside alpha")
        logger.info("outside")
    finally:
        logger.filters.clear()
    inside, outside = [r for r in caplog.records if r.name == "askpanel.test"]
    assert inside.schema_name == "alpha"
    assert outside.schema_name == "public"


def test_request_log_lines_name_the_tenant_and_host(alpha, caplog):
    with caplog.at_level(logging.WARNING, logger="django.request"):
        api_client(alpha).get("/api/v1/tenant/")  # 401 is logged as a warning
    record = next(r for r in caplog.records if r.name == "django.request")
    assert record.schema_name == "alpha"
    assert record.domain_url == "alpha.localhost"


def test_the_same_cache_key_is_distinct_per_tenant(alpha, beta):
    with schema_context("alpha"):
        cache.set("greeting", "hello from alpha")
    with schema_context("beta"):
        assert cache.get("greeting") is None
        cache.set("greeting", "hello from beta")
    with schema_context("alpha"):
        assert cache.get("greeting") == "hello from alpha"
    with schema_context("beta"):
        assert cache.get("greeting") == "hello from beta"
    tenant_cache_clear(schema_name="alpha")
    tenant_cache_clear(schema_name="beta")


def test_clearing_one_tenants_cache_leaves_the_others(alpha, beta):
    for schema in ("alpha", "beta"):
        with schema_context(schema):
            cache.set_many({"a": 1, "b": 2, "c": 3})
    deleted = tenant_cache_clear(schema_name="alpha")
    assert deleted == 3
    with schema_context("alpha"):
        assert cache.get_many(["a", "b", "c"]) == {}
    with schema_context("beta"):
        assert cache.get_many(["a", "b", "c"]) == {"a": 1, "b": 2, "c": 3}
    tenant_cache_clear(schema_name="beta")


def test_tenant_side_code_without_a_tenant_raises_a_clear_error():
    with pytest.raises(TenantContextMissing, match="needs a tenant"):
        current_tenant()


def test_tenant_side_code_inside_a_tenant_finds_it(alpha):
    with schema_context("alpha"):
        assert current_tenant().schema_name == "alpha"


def test_the_cache_keeps_one_redis_client_per_pool():
    from django.core.cache import caches

    backend = caches["routing"]._cache
    assert backend.get_client(write=True) is backend.get_client(write=False)  # one server: one pool
    caches["routing"].set("probe", "value", 5)
    assert caches["routing"].get("probe") == "value"
    caches["routing"].delete("probe")
