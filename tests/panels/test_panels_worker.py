"""Panels through real Celery workers: every type end to end with the offline provider,
a hybrid panel waiting for a human, and a worker killed mid-panel with a new one
finishing it without duplicates."""

import signal
import time
import uuid

import pytest
from django_tenants.utils import schema_context

from panels.lifecycle import FINAL
from panels.models import Contribution, Panel, Round
from tests.conftest import WorkerProcess, api_client, make_token
from tests.factories import QUESTION, make_document, make_tenant, make_user
from tests.fakes.llm_server import FakeLLMServer
from tests.panels.conftest import DEVICE_NOTE

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def e2e(django_db_setup, django_db_blocker, catalog, tmp_path_factory):
    """A committed tenant of its own (enterprise: every panel type) with one document."""
    from rag.models import Document
    from tests.conftest import media_root_at

    with media_root_at(tmp_path_factory.mktemp("e2e-media")), django_db_blocker.unblock():
        tenant = make_tenant("panelse2e", name="Panels E2E", tier="enterprise",
                             limits={"max_concurrent_panels": 50})
        try:
            user = make_user(tenant, "e2e-user")
            make_document(tenant, "device-note.md", DEVICE_NOTE, title="Device pathways note")
            yield {"tenant": tenant, "client": api_client(tenant, token=make_token(tenant, user))}
        finally:
            with schema_context("panelse2e"):
                for document in Document.objects.all():
                    document.file.delete(save=False)
            tenant.delete(force_drop=True)


def wait_final(client, panel_id, timeout=120, until=FINAL):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = client.get(f"/api/v1/panels/{panel_id}/").json()
        if body["status"].upper() in until:
            return body
        time.sleep(0.3)
    raise AssertionError(f"panel {panel_id} still {body['status']} after {timeout}s")


@pytest.mark.parametrize("panel_type", ["structured", "open", "socratic", "adversarial", "delphi"])
def test_every_panel_type_runs_end_to_end_in_a_worker(e2e, celery_worker, django_db_blocker, panel_type):
    client = e2e["client"]
    with django_db_blocker.unblock():
        created = client.post("/api/v1/panels/", {"query": QUESTION, "panel_type": panel_type}, format="json")
        assert created.status_code == 201, created.json()
        body = wait_final(client, created.json()["id"])
    assert body["status"] == "completed", body["error"]
    from panels.types import REGISTRY

    kind = REGISTRY[panel_type]
    planned = [spec.title for spec in kind.plan(body["settings"]["max_rounds"])]
    titles = [r["title"] for r in body["rounds"]]
    assert titles == planned[: len(titles)] and titles
    for round_ in body["rounds"]:
        speakers = [c["member"] for c in round_["contributions"]]
        assert len(speakers) == len(set(speakers)) >= 1
    assert body["consensus"]["level"] in {"high", "medium", "low"}
    assert body["recommendation"]["action"] in {"proceed", "caution", "stop", "investigate"}
    assert any(c["citations"] for r in body["rounds"] for c in r["contributions"])
    if panel_type == "delphi":
        assert all(c["estimate"] is not None for r in body["rounds"] for c in r["contributions"])
    if panel_type == "adversarial":
        roles = {m["role"] for m in body["members"]}
        assert {"pro", "con", "moderator"} <= roles
        assert body["rounds"][-1]["contributions"][0]["kind"] == "synthesis"


def test_a_hybrid_panel_waits_for_a_human_then_finishes(e2e, celery_worker, django_db_blocker):
    client = e2e["client"]
    with django_db_blocker.unblock():
        panel_id = client.post("/api/v1/panels/", {"query": QUESTION, "panel_type": "hybrid"}, format="json").json()["id"]
        waiting = wait_final(client, panel_id, until={"AWAITING_INPUT", *FINAL})
        assert waiting["status"] == "awaiting_input" and waiting["input_deadline"]
        response = client.post(f"/api/v1/panels/{panel_id}/human-input/",
                               {"expert_name": "Dr. Ana Human", "text": "Our predicate search found two ECG devices "
                                "with the same intended use, so a 510(k) is realistic."}, format="json")
        assert response.status_code == 201
        body = wait_final(client, panel_id)
    assert body["status"] == "completed"
    assert "Dr. Ana Human" in [m["name"] for m in body["members"]]
    human = [c for r in body["rounds"] for c in r["contributions"] if c["kind"] == "human_input"]
    assert len(human) == 1 and len(body["rounds"]) == 2


def test_a_worker_killed_mid_panel_is_finished_by_a_new_one_without_duplicates(e2e, django_db_blocker):
    from config.celery import app

    client = e2e["client"]
    queue = f"crash-{uuid.uuid4().hex[:6]}"
    with FakeLLMServer(latency_s=0.25) as llm:
        env = {"LLM_PROVIDER": "openai", "LLM_MODEL": "gpt-4o-mini", "LLM_BASE_URL": llm.openai_base_url,
               "LLM_API_KEY": "k", "CELERY_VISIBILITY_TIMEOUT": "3"}
        previous_queue = app.conf.task_default_queue
        app.conf.task_default_queue = queue
        with django_db_blocker.unblock():
            first = WorkerProcess(queue, concurrency=1, extra_env=env)
            try:
                panel_id = client.post("/api/v1/panels/", {
                    "query": QUESTION, "panel_type": "structured", "max_rounds": 3,
                    "experts": ["fda-510k-specialist", "fda-de-novo-strategist", "samd-ai-regulatory-lead"],
                }, format="json").json()["id"]
                deadline = time.monotonic() + 60
                with schema_context("panelse2e"):
                    while not Round.objects.filter(panel_id=panel_id, number=1, state="completed").exists():
                        assert time.monotonic() < deadline, "round 1 never finished"
                        time.sleep(0.05)
                first.stop(signal.SIGKILL)  # the whole worker dies mid-panel, its task unacknowledged
                with schema_context("panelse2e"):
                    assert Panel.objects.get(pk=panel_id).status == "IN_PROGRESS"
                second = WorkerProcess(queue, concurrency=1, extra_env=env)
                try:
                    body = wait_final(client, panel_id, timeout=120)
                finally:
                    second.stop()
            finally:
                app.conf.task_default_queue = previous_queue
                first.stop()
    assert body["status"] == "completed", body["error"]
    assert [r["number"] for r in body["rounds"]] == [1, 2, 3]
    for round_ in body["rounds"]:
        assert sorted(c["member"] for c in round_["contributions"]) == sorted(m["name"] for m in body["members"])
    with django_db_blocker.unblock(), schema_context("panelse2e"):
        assert Contribution.objects.filter(panel_id=panel_id).count() == 9
