"""The usage ledger: idempotent events, a tenant's own key billed directly, storage events,
the offline provider at cost 0, and the ledger equal to a panel's recorded calls after a
worker was killed mid-panel and another one finished it."""

import signal
import time
import uuid
from decimal import Decimal

import pytest
from django.db.models import Count, Sum
from django_tenants.utils import schema_context

from llm.client import CallRecord
from llm.models import LLMCall
from tenants.billing.models import UsageEvent
from tenants.billing.services import usage_record
from tenants.services import tenant_update_configuration
from tests.conftest import WorkerProcess, api_client, make_token
from tests.factories import QUESTION, make_document, make_tenant, make_user
from tests.fakes.llm_server import FakeLLMServer
from tests.panels.conftest import DEVICE_NOTE, run_inline

EXPERTS = ["fda-510k-specialist", "fda-de-novo-strategist", "samd-ai-regulatory-lead"]


def record(cost=0.25) -> CallRecord:
    return CallRecord(provider="openai", model="gpt-4o-mini", prompt_hash="h", input_tokens=1000, output_tokens=200,
                      cost=cost, latency_s=0.1, outcome="ok", attempts=1)


@pytest.mark.django_db
def test_the_same_key_counts_once(alpha):
    assert usage_record(tenant=alpha, kind="llm_call", key="retry:1", input_tokens=10) is True
    assert usage_record(tenant=alpha, kind="llm_call", key="retry:1", input_tokens=10) is False
    assert UsageEvent.objects.filter(key="retry:1").count() == 1


@pytest.mark.django_db
def test_a_tenants_own_key_billed_directly_counts_tokens_not_cost(alpha, beta):
    from llm.services import llm_calls_record

    alpha.llm_api_key = "sk-tenant-own"
    alpha.save(update_fields=["llm_api_key"])
    tenant_update_configuration(tenant=alpha, llm={**alpha.llm, "billed_directly": True})
    with schema_context("alpha"):
        llm_calls_record([record()], purpose="test")
    with schema_context("beta"):
        llm_calls_record([record()], purpose="test")
    own = UsageEvent.objects.get(tenant=alpha, kind="llm_call")
    assert (own.input_tokens, own.output_tokens, own.cost, own.billed_directly) == (1000, 200, 0, True)
    assert Decimal(own.data["list_cost"]) == Decimal("0.25")
    platform = UsageEvent.objects.get(tenant=beta, kind="llm_call")
    assert platform.cost == Decimal("0.25") and platform.billed_directly is False


@pytest.mark.django_db
def test_upload_and_delete_count_storage_added_and_removed(alpha, alpha_user, media_root):
    from rag.services import document_delete

    document = make_document(alpha, "note.md", DEVICE_NOTE, user=alpha_user)
    added = UsageEvent.objects.get(tenant=alpha, kind="storage_added")
    assert added.quantity == len(DEVICE_NOTE) == document.size
    with schema_context("alpha"):
        document_delete(document_id=document.pk, user=alpha_user)
    removed = UsageEvent.objects.get(tenant=alpha, kind="storage_removed")
    assert removed.quantity == len(DEVICE_NOTE) and removed.data["document_id"] == document.pk


@pytest.mark.django_db
def test_the_offline_providers_calls_cost_nothing(catalog, alpha, alpha_user):
    panel = run_inline(alpha, alpha_user, panel_type="structured", experts=EXPERTS, max_rounds=1)
    events = UsageEvent.objects.filter(tenant=alpha, kind="llm_call", panel_id=panel.pk)
    assert events.count() == 3 + 1 and all(e.provider == "offline" for e in events)
    totals = events.aggregate(tokens=Sum("input_tokens"), cost=Sum("cost"))
    assert totals["tokens"] > 0 and totals["cost"] == 0
    assert list(UsageEvent.objects.filter(tenant=alpha, panel_id=panel.pk).exclude(kind="llm_call")
                .order_by("kind").values_list("kind", flat=True)) == ["panel_completed", "panel_started"]


# --- a worker killed mid-panel ---------------------------------------------------------------

@pytest.fixture(scope="module")
def ledger_tenant(django_db_setup, django_db_blocker, catalog):
    with django_db_blocker.unblock():
        tenant = make_tenant("ledgere2e", tier="enterprise", limits={"max_concurrent_panels": 10})
        try:
            user = make_user(tenant, "ledger-user")
            yield {"tenant": tenant, "client": api_client(tenant, token=make_token(tenant, user))}
        finally:
            tenant.delete(force_drop=True)


def wait_final(client, panel_id, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = client.get(f"/api/v1/panels/{panel_id}/").json()
        if body["status"] in ("completed", "failed", "cancelled"):
            return body
        time.sleep(0.3)
    raise AssertionError(f"panel {panel_id} still {body['status']} after {timeout}s")


@pytest.mark.slow
def test_after_a_killed_worker_the_ledger_equals_the_panels_recorded_calls(ledger_tenant, django_db_blocker):
    from config.celery import app
    from panels.models import Round

    client, tenant = ledger_tenant["client"], ledger_tenant["tenant"]
    queue = f"ledger-{uuid.uuid4().hex[:6]}"
    with FakeLLMServer(latency_s=0.25) as llm:
        env = {"LLM_PROVIDER": "openai", "LLM_MODEL": "gpt-4o-mini", "LLM_BASE_URL": llm.openai_base_url,
               "LLM_API_KEY": "k", "CELERY_VISIBILITY_TIMEOUT": "3"}
        previous_queue = app.conf.task_default_queue
        app.conf.task_default_queue = queue
        with django_db_blocker.unblock():
            first = WorkerProcess(queue, concurrency=1, extra_env=env)
            try:
                created = client.post("/api/v1/panels/", {"query": QUESTION, "panel_type": "structured",
                                                          "max_rounds": 3, "experts": EXPERTS}, format="json")
                assert created.status_code == 201, created.json()
                panel_id = created.json()["id"]
                deadline = time.monotonic() + 60
                with schema_context("ledgere2e"):
                    while not Round.objects.filter(panel_id=panel_id, number=2).exists():
                        assert time.monotonic() < deadline, "round 2 never started"
                        time.sleep(0.05)
                first.stop(signal.SIGKILL)  # mid-round: some answers of round 2 are in flight
                second = WorkerProcess(queue, concurrency=1, extra_env=env)
                try:
                    body = wait_final(client, panel_id)
                finally:
                    second.stop()
            finally:
                app.conf.task_default_queue = previous_queue
                first.stop()
    assert body["status"] == "completed", body["error"]
    with django_db_blocker.unblock():
        with schema_context("ledgere2e"):
            calls = LLMCall.objects.filter(purpose=f"panel:{panel_id}")
            recorded = calls.aggregate(count=Count("id"), input=Sum("input_tokens"), output=Sum("output_tokens"),
                                       cost=Sum("cost"))
            keys = {f"llm:{tenant.pk}:{pk}" for pk in calls.values_list("pk", flat=True)}
        events = UsageEvent.objects.filter(tenant=tenant, kind="llm_call", panel_id=panel_id)
        counted = events.aggregate(count=Count("id"), input=Sum("input_tokens"), output=Sum("output_tokens"),
                                   cost=Sum("cost"))
        assert set(events.values_list("key", flat=True)) == keys  # one event per recorded call, none twice
        started = UsageEvent.objects.filter(tenant=tenant, kind="panel_started", panel_id=panel_id).count()
    assert counted["count"] == recorded["count"] >= 3 * 3 + 1
    assert (counted["input"], counted["output"]) == (recorded["input"], recorded["output"])
    assert counted["cost"] == recorded["cost"] > 0
    assert body["usage"]["tokens"] == recorded["input"] + recorded["output"]
    assert started == 1  # resumed, not started twice
