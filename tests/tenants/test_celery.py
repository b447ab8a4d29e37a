"""Celery tasks run in the schema of whoever enqueued them, on a real worker."""

import pytest
from django_tenants.utils import schema_context

from tenants.context import TenantContextMissing
from tenants.tasks import tenant_probe
from tests.conftest import make_user

pytestmark = pytest.mark.slow


def test_a_task_runs_in_the_callers_schema(celery_worker, django_db_blocker):
    with django_db_blocker.unblock():
        with schema_context("alpha"):
            alpha_result = tenant_probe.delay()
        with schema_context("beta"):
            beta_result = tenant_probe.delay()
        assert alpha_result.get(timeout=30)["schema"] == "alpha"
        assert beta_result.get(timeout=30)["schema"] == "beta"


def test_the_worker_sees_only_that_tenants_rows(celery_worker, django_db_blocker):
    from tenants.models import Tenant

    with django_db_blocker.unblock():
        alpha = Tenant.objects.get(schema_name="alpha")
        user = make_user(alpha, "committed-probe-user")
        try:
            with schema_context("alpha"):
                alpha_users = tenant_probe.delay().get(timeout=30)["users"]
            with schema_context("beta"):
                beta_users = tenant_probe.delay().get(timeout=30)["users"]
            with schema_context("alpha"):
                from django.contrib.auth import get_user_model

                assert alpha_users == get_user_model().objects.count()
            with schema_context("beta"):
                assert beta_users == get_user_model().objects.count()
            assert alpha_users >= 1
        finally:
            with schema_context("alpha"):
                user.delete()


def test_enqueueing_a_tenant_task_outside_a_tenant_is_refused():
    with pytest.raises(TenantContextMissing, match="enqueued outside"):
        tenant_probe.delay()


def test_a_tenant_task_run_in_public_is_refused():
    with pytest.raises(TenantContextMissing, match="without a tenant schema"):
        tenant_probe()
