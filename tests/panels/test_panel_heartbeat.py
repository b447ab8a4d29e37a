"""A panel whose worker died is picked up again within a minute, not after the broker's
visibility timeout: running panels beat, and `panels.requeue_stale` (beat, every 30 s)
enqueues again those whose heartbeat went stale. A requeue is safe to repeat."""

import signal
import time
import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from django_tenants.utils import schema_context

from panels.models import Contribution, Panel, PanelEvent, Round
from panels.orchestration import runner
from panels.orchestration.runner import panel_heartbeat, panel_run, panels_requeue_stale
from panels.tasks import panel_run_task
from tests.conftest import WorkerProcess, api_client, make_token
from tests.factories import QUESTION, make_panel, make_tenant, make_user

EXPERTS = ["fda-510k-specialist", "fda-de-novo-strategist", "samd-ai-regulatory-lead"]
LONG_AGO = timedelta(minutes=5)


@pytest.fixture
def enqueued(monkeypatch):
    """The run tasks the requeue enqueues, as (schema, panel id), instead of a broker."""
    sent = []
    monkeypatch.setattr(panel_run_task, "delay", lambda panel_id: sent.append((connection.schema_name, panel_id)))
    return sent


def running_panel(tenant, user, *, heartbeat_age: timedelta | None, **options) -> Panel:
    """A panel a worker had started (in progress) whose last heartbeat is `heartbeat_age` old."""
    panel = make_panel(tenant, user, experts=EXPERTS, **options)
    with schema_context(tenant.schema_name):
        panel.transition(Panel.Status.ASSIGNING_EXPERTS)
        panel.transition(Panel.Status.IN_PROGRESS)
        heartbeat = None if heartbeat_age is None else timezone.now() - heartbeat_age
        Panel.objects.filter(pk=panel.pk).update(heartbeat_at=heartbeat)
        panel.refresh_from_db()
    return panel


def requeued_events(tenant, panel):
    with schema_context(tenant.schema_name):
        return list(PanelEvent.objects.filter(panel=panel, kind="requeued").values_list("data", flat=True))


@pytest.mark.django_db
def test_a_panel_with_a_fresh_heartbeat_is_left_alone(catalog, alpha, alpha_user, enqueued):
    beating = running_panel(alpha, alpha_user, heartbeat_age=timedelta(seconds=5))
    just_queued = make_panel(alpha, alpha_user, experts=EXPERTS)
    panels_requeue_stale()
    assert enqueued == []
    assert requeued_events(alpha, beating) == requeued_events(alpha, just_queued) == []


@pytest.mark.django_db
def test_a_stale_panel_is_requeued_in_its_tenant_once_and_runs_once(catalog, alpha, alpha_user, enqueued):
    stale = running_panel(alpha, alpha_user, heartbeat_age=LONG_AGO, max_rounds=1)
    never_beat = running_panel(alpha, alpha_user, heartbeat_age=None, max_rounds=1)
    with schema_context("alpha"):
        Panel.objects.filter(pk=never_beat.pk).update(started_at=timezone.now() - LONG_AGO)
    panels_requeue_stale()
    assert sorted(enqueued) == sorted([("alpha", stale.pk), ("alpha", never_beat.pk)])
    [event] = requeued_events(alpha, stale)
    assert "no heartbeat for 60 s" in event["reason"] and "in_progress" in event["reason"]
    assert requeued_events(alpha, never_beat)[0]["last_heartbeat"] is None

    panels_requeue_stale()  # beat runs it again 30 s later
    assert len(enqueued) == 2, "a requeued panel waits a full minute for its new run"

    # Two deliveries of the run task (e.g. the requeue and the broker's own): one run.
    with schema_context("alpha"):
        assert panel_run(panel_id=stale.pk).status == "COMPLETED"
        contributions = Contribution.objects.filter(panel=stale).count()
        assert panel_run(panel_id=stale.pk).status == "COMPLETED"
        assert Contribution.objects.filter(panel=stale).count() == contributions == len(EXPERTS)
        statuses = [e.data["status"] for e in PanelEvent.objects.filter(panel=stale, kind="status")]
        assert statuses.count("completed") == 1


@pytest.mark.django_db
def test_beat_checks_for_stalled_panels_every_30_seconds():
    from django.core.management import call_command
    from django_celery_beat.models import PeriodicTask

    from config.celery import app

    app.loader.import_default_modules()  # what a worker does at start
    call_command("load_schedule", verbosity=0)

    scheduled = PeriodicTask.objects.get(task="panels.requeue_stale")
    assert scheduled.enabled and (scheduled.interval.every, scheduled.interval.period) == (30, "seconds")
    assert "panels.requeue_stale" in app.tasks


class WorkerDied(BaseException):
    """Stands for the process vanishing: nothing in the runner catches it."""


@pytest.mark.django_db
def test_a_panel_whose_worker_died_while_building_consensus_is_finished_by_its_requeued_run(
        catalog, alpha, alpha_user, enqueued, monkeypatch):
    panel = make_panel(alpha, alpha_user, experts=EXPERTS, max_rounds=1)
    real_consensus = runner.compute_consensus

    def dies(*args, **kwargs):
        raise WorkerDied

    monkeypatch.setattr(runner, "compute_consensus", dies)
    with schema_context("alpha"), pytest.raises(WorkerDied):
        panel_run(panel_id=panel.pk)
    monkeypatch.setattr(runner, "compute_consensus", real_consensus)
    with schema_context("alpha"):
        assert Panel.objects.get(pk=panel.pk).status == "BUILDING_CONSENSUS"
        Panel.objects.filter(pk=panel.pk).update(heartbeat_at=timezone.now() - LONG_AGO)
    panels_requeue_stale()
    assert enqueued == [("alpha", panel.pk)]
    with schema_context("alpha"):
        finished = panel_run(panel_id=panel.pk)
        assert finished.status == "COMPLETED", finished.error
        assert Contribution.objects.filter(panel=panel).exclude(kind="synthesis").count() == len(EXPERTS)


# --- Real processes --------------------------------------------------------------------


@pytest.fixture(scope="module")
def committed(django_db_setup, django_db_blocker, catalog):
    """A committed tenant of its own, so worker processes and the heartbeat thread see it."""
    with django_db_blocker.unblock():
        tenant = make_tenant("heartbeat", name="Heartbeat", tier="enterprise", limits={"max_concurrent_panels": 50})
        try:
            user = make_user(tenant, "heartbeat-user")
            yield {"tenant": tenant, "user": user, "client": api_client(tenant, token=make_token(tenant, user))}
        finally:
            tenant.delete(force_drop=True)


@pytest.mark.slow
def test_the_heartbeat_thread_beats_during_a_long_call_in_the_tenants_schema(committed, django_db_blocker):
    with django_db_blocker.unblock():
        panel = make_panel(committed["tenant"], committed["user"], experts=EXPERTS)
        with schema_context("heartbeat"):
            with panel_heartbeat(panel, every_s=0.1):
                first = Panel.objects.get(pk=panel.pk).heartbeat_at
                time.sleep(0.6)  # a long LLM call: only the thread beats meanwhile
                later = Panel.objects.get(pk=panel.pk).heartbeat_at
            version = Panel.objects.get(pk=panel.pk).version
    assert first is not None and later > first
    assert version == panel.version, "a heartbeat is not a change of the panel (no version bump)"


def wait_final(client, panel_id, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = client.get(f"/api/v1/panels/{panel_id}/").json()
        if body["status"] in {"completed", "failed", "cancelled"}:
            return body
        time.sleep(0.2)
    raise AssertionError(f"panel {panel_id} still {body['status']} after {timeout}s")


@pytest.mark.slow
def test_a_panel_whose_worker_host_died_is_finished_after_a_requeue_not_the_visibility_timeout(
        committed, django_db_blocker):
    from config.celery import app
    from tests.fakes.llm_server import FakeLLMServer

    client = committed["client"]
    queue = f"heartbeat-{uuid.uuid4().hex[:6]}"
    with FakeLLMServer(latency_s=0.3) as llm:
        env = {"LLM_PROVIDER": "openai", "LLM_MODEL": "gpt-4o-mini", "LLM_BASE_URL": llm.openai_base_url,
               "LLM_API_KEY": "k", "CELERY_VISIBILITY_TIMEOUT": "3600"}  # production: the broker waits an hour
        previous_queue = app.conf.task_default_queue
        app.conf.task_default_queue = queue
        with django_db_blocker.unblock():
            first = WorkerProcess(queue, concurrency=1, extra_env=env)
            second = None
            try:
                panel_id = client.post("/api/v1/panels/", {
                    "query": QUESTION, "panel_type": "structured", "max_rounds": 3, "experts": EXPERTS,
                }, format="json").json()["id"]
                deadline = time.monotonic() + 60
                with schema_context("heartbeat"):
                    while not Round.objects.filter(panel_id=panel_id, number=1, state="completed").exists():
                        assert time.monotonic() < deadline, "round 1 never finished"
                        time.sleep(0.05)
                    assert Panel.objects.get(pk=panel_id).heartbeat_at > timezone.now() - timedelta(seconds=15)
                first.stop(signal.SIGKILL)  # the host dies: the worker's whole process group, task unacknowledged
                second = WorkerProcess(queue, concurrency=2, extra_env=env)
                time.sleep(2)
                with schema_context("heartbeat"):
                    stalled = Panel.objects.get(pk=panel_id)
                    spoken = Contribution.objects.filter(panel_id=panel_id).count()
                    assert stalled.status == "IN_PROGRESS", "the broker must not hand the panel over by itself"

                    # A minute without a beat, as beat's 30 s check would find it; requeued twice
                    # (two beat ticks, or two beat processes): both runs reach the fresh worker.
                    for _ in range(2):
                        Panel.objects.filter(pk=panel_id).update(heartbeat_at=timezone.now() - timedelta(minutes=2))
                        panels_requeue_stale()
                    assert Contribution.objects.filter(panel_id=panel_id).count() >= spoken
                body = wait_final(client, panel_id, timeout=45)  # bounded: seconds, not the hour
            finally:
                app.conf.task_default_queue = previous_queue
                first.stop()
                if second is not None:
                    second.stop()
    assert body["status"] == "completed", body["error"]
    assert [r["number"] for r in body["rounds"]] == [1, 2, 3]
    names = sorted(m["name"] for m in body["members"])
    for round_ in body["rounds"]:
        assert sorted(c["member"] for c in round_["contributions"]) == names  # none lost, none twice
    with django_db_blocker.unblock(), schema_context("heartbeat"):
        assert Contribution.objects.filter(panel_id=panel_id).exclude(kind="synthesis").count() == 9
        requeues = list(PanelEvent.objects.filter(panel_id=panel_id, kind="requeued").values_list("data", flat=True))
        statuses = [e.data["status"] for e in PanelEvent.objects.filter(panel_id=panel_id, kind="status")]
    assert len(requeues) == 2 and all("worker is presumed dead" in r["reason"] for r in requeues)
    assert statuses.count("completed") == 1
