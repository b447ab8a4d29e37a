"""The API under load, with live streams open (issue 18).

    python bench/load.py [--seconds 60] [--clients 50] [--tenants 5] [--streams 200] [--think 1.0]
                         [--warmup 10] [--completed 12] [--waiting 8] [--mix list=30,detail=30,...]

1. Starts the service exactly as `make run` does (`python -m config.launcher serve`: the
   embedded Postgres and Redis, migrations, web server, worker, beat) on a free port, in its
   own data directory (.data/bench-load), without the demo seed (ASKPANEL_SETUP_COMMANDS),
   with DEBUG off (a bench SECRET_KEY) unless the environment says otherwise.
2. Makes `--tenants` enterprise tenants through the project's services (tenant_create and
   its users and tokens, document_upload + document_process, panel_create + panel_run with
   the offline provider): 3 users each, documents, completed panels, and hybrid panels that
   wait for a human expert (running, never final: their streams stay open). Their plan
   limits are raised so the load never meets them. Every question and document of tenant i
   carries the marker `zqloadmark<i>`.
3. Opens `--streams` Server-Sent Events streams (GET panels/<id>/events/, Accept:
   text/event-stream) spread over the tenants' waiting panels, kept open for the whole run
   (a stream the server closes after its lifetime is reopened with Last-Event-ID, as an
   EventSource does).
4. Runs `--clients` API clients (token auth, keep-alive, asyncio, raw HTTP/1.1 from the
   standard library) spread over the tenants and their users for `--seconds`, each doing
   list (GET panels/), detail (GET panels/<id>/), search (GET search/?q=), recommend (GET
   agents/recommend/?q=) and create (POST panels/) in the ratio 30:30:15:15:10, with a
   think time drawn uniformly from 0.5x to 1.5x `--think` seconds between requests
   (`--think 0`: back to back, the saturation case). A response is an error unless its
   status is the expected one (200, or 201 for create); 429s are counted in their own
   column (the bench tenants' limits are set high so none is expected). A response holding
   another tenant's marker is a cross-tenant response; the streams are checked the same way.
   `--mix list=1` (say) loads one endpoint alone; with the CPU figures below it gives that
   endpoint's web server CPU per request.
   Before that, `--warmup` seconds of the same load (not counted) let every web worker load
   its models and fill its caches.
5. Prints p50 / p95 / max and count per endpoint (goal p95 <= 50 ms for list and detail),
   errors, cross-tenant responses, the streams (opened, open at the end, gaps between their
   messages), and the web server's memory: RSS (and PSS) summed over the web server's
   process tree (psutil) before the load and at its end. Also, to read the figures by: the
   most Postgres connections open at once (sampled every second) and where the machine's
   CPU went during the load (web server, worker and beat, this bench, the rest), since
   other work on the machine slows the server down as much as the load does.
Prints figures; asserts nothing. The load's own panels are deleted at the end.
"""

import argparse
import asyncio
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.setdefault("ASKPANEL_DATA_DIR", str(BASE_DIR / ".data" / "bench-load")))
if not DATA_DIR.is_absolute():
    DATA_DIR = BASE_DIR / DATA_DIR
# Served as production serves it (DEBUG=true in the environment measures the other case).
os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("SECRET_KEY", "bench-load-only-not-a-secret-0123456789abcdef")
SERVER_ENV = dict(os.environ)  # taken before Django starts: the launcher starts the embedded servers
import _django  # noqa: E402

PASSWORD = "bench-load-pass-1"
USERS = [("bench", True), ("bench-member-1", False), ("bench-member-2", False)]
# Raised for the bench tenants: the load must measure the server, not the plan.
LIMITS = {"max_concurrent_panels": 1000, "max_panels_per_month": 1_000_000, "max_documents": 10_000,
          "monthly_token_budget": 100_000_000_000, "monthly_cost_budget_usd": 10_000_000}
# API rate limits (429 throttled), where the configuration has them.
RATE_LIMITS = {"api_requests_per_minute": 1_000_000, "api_requests_per_minute_per_user": 1_000_000}


def bench_limits() -> dict:
    from dataclasses import fields

    from tenants.configuration import Limits

    known = {field.name for field in fields(Limits)}
    return {**LIMITS, **{name: value for name, value in RATE_LIMITS.items() if name in known}}


MIX = {"list": 30, "detail": 30, "search": 15, "recommend": 15, "create": 10}
GOALS_MS = {"list": 50, "detail": 50}
EXPECTED = {"create": 201}
QUESTIONS = [
    "Should we file a De Novo or a 510(k) for our AI-based ECG arrhythmia detection software?",
    "Is a decentralised phase III design acceptable to EMA for our rare-disease enzyme therapy?",
    "Which payer evidence do we need before launching the continuous glucose monitor in Germany?",
    "Can real-world evidence replace the control arm for our label expansion in NSCLC?",
    "How should we price a digital therapeutic for insomnia in the French market?",
]
SEARCHES = ["payer evidence for reimbursement", "predicate device substantial equivalence",
            "real-world evidence external control arm", "health technology assessment price",
            "clinical trial endpoints for rare disease"]
DOCUMENTS = [
    ("Reimbursement dossier", (
        "Payers in Germany ask for a benefit assessment. The G-BA compares the device with the appropriate "
        "comparator; a dossier states the added benefit, the patient groups and the costs. Health technology "
        "assessment bodies weigh real-world evidence less than randomised trials.")),
    ("510(k) strategy memo", (
        "A 510(k) needs a predicate device and shows substantial equivalence: the same intended use and "
        "technological characteristics that raise no new questions of safety and effectiveness. Without a "
        "predicate, the De Novo pathway classifies a novel low to moderate risk device.")),
    ("External control arms", (
        "Real-world evidence from registries can form an external control arm when a randomised control is "
        "unethical or infeasible. Regulators ask for a prespecified protocol, comparable populations and "
        "sensitivity analyses for unmeasured confounding.")),
    ("Rare disease trial design", (
        "Trials in rare diseases use adaptive and decentralised designs, natural history studies and surrogate "
        "endpoints. The EMA protocol assistance discusses endpoints, sample size and the acceptability of home "
        "visits and remote monitoring.")),
]


def marker(index: int) -> str:
    return f"zqloadmark{index}"


# --- the service, as `make run` serves it -------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def launcher_start(port: int, log_path: Path) -> subprocess.Popen:
    env = dict(SERVER_ENV, PORT=str(port), ASKPANEL_DATA_DIR=str(DATA_DIR),
               ASKPANEL_SETUP_COMMANDS=os.environ.get("ASKPANEL_SETUP_COMMANDS",
                                                      "load_agents load_prices load_schedule"))
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        return subprocess.Popen([sys.executable, "-m", "config.launcher", "serve"], cwd=BASE_DIR, env=env,
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def launcher_wait(launcher: subprocess.Popen, port: int, log_path: Path, timeout: float = 600) -> None:
    import http.client

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if launcher.poll() is not None:
            tail = log_path.read_text(errors="replace")[-3000:]
            raise SystemExit(f"The launcher exited (code {launcher.returncode}); its log ends:\n{tail}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/api/v1/health/", headers={"Host": f"localhost:{port}"})
            if conn.getresponse().status == 200:
                conn.close()
                return
        except OSError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"The service did not answer on port {port} within {timeout:.0f} s; see {log_path}.")


def launcher_stop(launcher: subprocess.Popen) -> None:
    """SIGTERM to the launcher (it stops its children, then the servers), as Ctrl-C would."""
    if launcher.poll() is None:
        launcher.send_signal(signal.SIGTERM)
        try:
            launcher.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(launcher.pid, signal.SIGKILL)  # its own session: what it started
            launcher.wait()


def web_server_processes(launcher_pid: int, port: int) -> list:
    """The web server's process tree: the launcher's topmost descendant listening on the
    port, and that process's descendants (e.g. the workers of a multi-process server)."""
    import psutil

    def listening(process) -> bool:
        try:
            return any(c.status == psutil.CONN_LISTEN and c.laddr.port == port
                       for c in process.net_connections(kind="tcp"))
        except psutil.Error:
            return False

    listeners = [process for process in psutil.Process(launcher_pid).children(recursive=True) if listening(process)]
    pids = {process.pid for process in listeners}
    for process in listeners:
        if process.ppid() not in pids:  # workers inherit the socket from the server's main process
            return [process, *process.children(recursive=True)]
    return []


class ServerProbe:
    """The web server's process tree, its memory, and where the machine's CPU went during
    the load: the web server, the Celery worker and beat, this bench, and the rest (Postgres,
    Redis and anything else running on the machine)."""

    def __init__(self, launcher_pid: int, port: int):
        self.launcher_pid, self.port = launcher_pid, port
        web = web_server_processes(launcher_pid, port)
        self.command = " ".join(web[0].cmdline()[1:]) if web else "(not found)"
        self.memory_before = memory(web)
        self.memory_after = None
        self.streams_open_at_end = 0
        self.cpu = {}
        self.postgres_peak, self.postgres_max, self.postgres_errors, self.postgres_peak_states = 0, 0, [], {}

    def _cpu_now(self) -> dict:
        import psutil

        def seconds(processes) -> float:
            total = 0.0
            for process in processes:
                try:
                    times = process.cpu_times()
                    total += times.user + times.system
                except psutil.Error:
                    pass
            return total

        web = web_server_processes(self.launcher_pid, self.port)
        celery = [p for p in psutil.Process(self.launcher_pid).children(recursive=True)
                  if "celery" in " ".join(p.cmdline())]
        machine = psutil.cpu_times()
        return {"web server": seconds(web), "worker and beat": seconds(celery), "this bench": seconds(
            [psutil.Process()]), "machine": machine.user + machine.system + machine.nice, "at": time.monotonic()}

    def load_started(self, streams) -> None:
        self.cpu_before = self._cpu_now()
        self.load_before = os.getloadavg()[0]

    def load_ended(self, streams) -> None:
        after = self._cpu_now()
        self.streams_open_at_end = sum(stream.open for stream in streams)
        self.memory_after = memory(web_server_processes(self.launcher_pid, self.port))
        self.load_after = os.getloadavg()[0]
        self.cpu = {name: after[name] - self.cpu_before[name] for name in after}


def postgres_connections() -> tuple[dict, int]:
    """Client connections open in Postgres now by state (this bench's one included), and the
    most it takes."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(state, '?'), count(*) FROM pg_stat_activity "
                       "WHERE backend_type = 'client backend' GROUP BY 1")
        states = dict(cursor.fetchall())
        cursor.execute("SHOW max_connections")
        return states, int(cursor.fetchone()[0])


async def sample_postgres_connections(probe: "ServerProbe", stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    with ThreadPoolExecutor(max_workers=1) as one_thread:  # this bench holds one connection, not one a thread
        while not stop.is_set():
            await sample_once(loop, one_thread, probe)
            try:
                await asyncio.wait_for(stop.wait(), timeout=1)
            except TimeoutError:
                pass


async def sample_once(loop, executor, probe: "ServerProbe") -> None:
    try:
        states, probe.postgres_max = await loop.run_in_executor(executor, postgres_connections)
    except Exception as exc:  # noqa: BLE001 - a figure, not the bench, is lost
        probe.postgres_errors.append(f"{type(exc).__name__}: {exc}")
        return
    if sum(states.values()) > probe.postgres_peak:
        probe.postgres_peak, probe.postgres_peak_states = sum(states.values()), states


def memory(processes: list) -> dict:
    import psutil

    rss = pss = 0
    alive = 0
    for process in processes:
        try:
            info = process.memory_full_info()
        except psutil.Error:
            continue
        alive += 1
        rss += info.rss
        pss += getattr(info, "pss", 0)
    return {"processes": alive, "rss_mb": rss / 1048576, "pss_mb": pss / 1048576}


# --- the bench tenants, through the project's services ----------------------------------


def tenants_prepare(count: int, *, completed: int, waiting: int) -> list[dict]:
    """Each tenant: its domain, marker, users with tokens, panels by owner, waiting panels."""
    from django_tenants.utils import schema_context
    from rest_framework.authtoken.models import Token

    from agents.services import agents_load
    from panels.models import Panel
    from panels.orchestration.runner import panel_run
    from panels.services import panel_create
    from rag.models import Document
    from rag.services import document_process, document_upload
    from tenants.services import tenant_update_configuration, tenant_user_ensure

    agents_load()
    tenants = []
    for index in range(1, count + 1):
        schema = f"bench_load_{index}"
        tenant, admin, _ = _django.bench_tenant(schema, tier="enterprise", is_admin=True, name=f"Bench load {index}")
        tenant_update_configuration(tenant=tenant, limits=bench_limits())
        mark = marker(index)
        users = [admin] + [tenant_user_ensure(tenant=tenant, username=name, password=PASSWORD, is_admin=is_admin)
                           for name, is_admin in USERS[1:]]
        with schema_context(schema):
            tokens = {user.pk: Token.objects.get_or_create(user=user)[0].key for user in users}
            for position, (title, text) in enumerate(DOCUMENTS):
                title = f"{title} {mark}"
                if not Document.objects.filter(title=title, status=Document.Status.READY).exists():
                    Document.objects.filter(title=title).delete()
                    document = document_upload(user=admin, filename=f"doc-{position}.md", title=title, enqueue=False,
                                               data=f"# {title}\n\n{text}\n\nFiled by {mark}.\n".encode())
                    document_process(document_id=document.pk)
            # The panels an earlier run made are kept (running them is the slow part of the
            # set-up) while they are as this run needs them; the load's own panels go.
            wanted = {}
            for number in range(completed):
                wanted[f"{QUESTIONS[number % len(QUESTIONS)]} ({mark} case {number})"] = (
                    users[number % len(users)], "structured", Panel.Status.COMPLETED)
            for number in range(waiting):
                wanted[f"{QUESTIONS[number % len(QUESTIONS)]} ({mark} live {number})"] = (
                    users[number % len(users)], "hybrid", Panel.Status.AWAITING_INPUT)
            kept = {panel.query: panel for panel in Panel.objects.filter(query__in=list(wanted))
                    if (panel.owner_id, panel.panel_type, panel.status) == (
                        wanted[panel.query][0].pk, *wanted[panel.query][1:])}
            Panel.objects.exclude(pk__in=[panel.pk for panel in kept.values()]).delete()
            owned, streams = defaultdict(list), []
            for query, (owner, panel_type, status) in wanted.items():
                panel = kept.get(query)
                if panel is None:
                    panel = panel_create(user=owner, query=query, panel_type=panel_type, max_rounds=1, enqueue=False)
                    panel = panel_run(panel_id=panel.pk)  # a hybrid panel stops to wait for a human expert (24 h)
                    if panel.status != status:
                        print(f"  panel {panel.pk} of {schema} ended {panel.status}, not {status}: {panel.error}")
                owned[owner.pk].append(panel.pk)
                if status == Panel.Status.AWAITING_INPUT:
                    streams.append((tokens[owner.pk], panel.pk))
        tenants.append({
            "schema": schema, "host": schema.replace("_", "-") + ".localhost", "marker": mark,
            "users": [{"token": tokens[user.pk], "panels": list(owned[user.pk]) if user is not admin
                       else [pk for pks in owned.values() for pk in pks]} for user in users],
            "streams": streams,
        })
    from django.db import connections

    connections.close_all()
    return tenants


def load_panels_delete(tenants: list[dict]) -> int:
    """The panels the load created (the worker would run them for minutes after)."""
    from django.db import connections
    from django_tenants.utils import schema_context

    from panels.models import Panel

    deleted = 0
    for tenant in tenants:
        with schema_context(tenant["schema"]):
            deleted += Panel.objects.filter(query__contains=f"({tenant['marker']} load ").delete()[1].get(
                "panels.Panel", 0)
    connections.close_all()
    return deleted


# --- HTTP/1.1 over asyncio streams ------------------------------------------------------


class Closed(ConnectionError):
    """The server closed a kept-alive connection before answering."""


async def read_head(reader) -> tuple[int, dict]:
    line = await reader.readline()
    if not line:
        raise Closed("connection closed before a status line")
    status = int(line.split()[1])
    headers = {}
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b"\n", b""):
            return status, headers
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()


async def body_pieces(reader, headers: dict):
    if headers.get("transfer-encoding", "").lower() == "chunked":
        while True:
            size_line = await reader.readline()
            if not size_line:
                raise ConnectionError("connection closed inside a chunked body")
            size = int(size_line.split(b";")[0].strip(), 16)
            if size == 0:
                while (await reader.readline()) not in (b"\r\n", b"\n", b""):
                    pass
                return
            data = await reader.readexactly(size + 2)
            yield data[:-2]
    elif "content-length" in headers:
        yield await reader.readexactly(int(headers["content-length"]))
    else:  # until the server closes
        while data := await reader.read(65536):
            yield data


def request_bytes(method: str, path: str, host: str, headers: dict, body: bytes = b"") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}", *(f"{k}: {v}" for k, v in headers.items())]
    if body or method == "POST":
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


class Client:
    """One API client: one kept-alive connection, reopened when the server closes it."""

    def __init__(self, port: int, host: str, token: str):
        self.port, self.host, self.token = port, host, token
        self.reader = self.writer = None

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.reader = self.writer = None

    async def request(self, method: str, path: str, payload: dict | None = None) -> tuple[int, dict, bytes]:
        headers = {"Authorization": f"Token {self.token}", "Accept": "application/json"}
        body = b""
        if payload is not None:
            body, headers["Content-Type"] = json.dumps(payload).encode(), "application/json"
        data = request_bytes(method, path, f"{self.host}:{self.port}", headers, body)
        for attempt in range(2):
            reused = self.writer is not None
            if not reused:
                self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
            try:
                self.writer.write(data)
                await self.writer.drain()
                status, response_headers = await read_head(self.reader)
            except (Closed, ConnectionResetError, BrokenPipeError):
                await self.close()
                if reused and attempt == 0:
                    continue  # an idle kept-alive connection the server had closed: once more on a new one
                raise
            content = b"".join([piece async for piece in body_pieces(self.reader, response_headers)])
            framed = "content-length" in response_headers or "transfer-encoding" in response_headers
            if not framed or response_headers.get("connection", "").lower() == "close":
                await self.close()
            return status, response_headers, content
        raise AssertionError("unreachable")


# --- the load --------------------------------------------------------------------------


class Results:
    def __init__(self, markers: list[str]):
        self.markers = markers
        self.times = defaultdict(list)  # endpoint -> seconds (every answered request)
        self.errors = defaultdict(int)
        self.throttled = defaultdict(int)  # 429s
        self.cross_tenant = defaultdict(int)
        self.own_marker = defaultdict(int)  # answers holding their own tenant's marker: the check sees data
        self.samples = []  # a few errors to show

    def foreign(self, body: bytes, own: str) -> bool:
        text = body.decode("utf-8", errors="replace")
        return any(mark in text for mark in self.markers if mark != own)

    def sample(self, what: str) -> None:
        if len(self.samples) < 8:
            self.samples.append(what)


async def api_client(number: int, seed: int, port: int, tenant: dict, user: dict, results: Results, *, deadline: float,
                     think: float, mix: dict) -> None:
    rng = random.Random(seed * 1000 + number)
    client = Client(port, tenant["host"], user["token"])
    endpoints, weights = list(mix), list(mix.values())
    created = 0
    await asyncio.sleep(rng.uniform(0, think or 0.05))  # not all at once
    try:
        while time.monotonic() < deadline:
            endpoint = rng.choices(endpoints, weights)[0]
            payload, method = None, "GET"
            if endpoint == "list":
                path = "/api/v1/panels/"
            elif endpoint == "detail":
                path = f"/api/v1/panels/{rng.choice(user['panels'])}/"
            elif endpoint == "search":
                path = "/api/v1/search/?" + urllib.parse.urlencode({"q": rng.choice(SEARCHES), "k": 8})
            elif endpoint == "recommend":
                question = f"{rng.choice(QUESTIONS)} ({tenant['marker']})"  # echoed back in the answer
                path = "/api/v1/agents/recommend/?" + urllib.parse.urlencode({"q": question, "k": 5})
            else:
                method, path, created = "POST", "/api/v1/panels/", created + 1
                payload = {"query": f"{rng.choice(QUESTIONS)} ({tenant['marker']} load {seed}.{number}.{created})",
                           "panel_type": "structured", "max_rounds": 1}
            started = time.perf_counter()
            try:
                status, _, body = await asyncio.wait_for(client.request(method, path, payload), timeout=30)
            except (OSError, TimeoutError, ValueError, asyncio.IncompleteReadError) as exc:
                await client.close()
                results.errors[endpoint] += 1
                results.sample(f"{endpoint} {method} {path}: {type(exc).__name__}: {exc}")
                continue
            results.times[endpoint].append(time.perf_counter() - started)
            if status == 429:
                results.throttled[endpoint] += 1
                results.sample(f"{endpoint} {method} {path}: 429 {body[:200]!r}")
            elif status != EXPECTED.get(endpoint, 200):
                results.errors[endpoint] += 1
                results.sample(f"{endpoint} {method} {path}: {status} {body[:200]!r}")
            if tenant["marker"].encode() in body:
                results.own_marker[endpoint] += 1
            if results.foreign(body, tenant["marker"]):
                results.cross_tenant[endpoint] += 1
                results.sample(f"{endpoint} {method} {path}: ANOTHER TENANT'S MARKER in {body[:300]!r}")
            if think:
                await asyncio.sleep(rng.uniform(0.5 * think, 1.5 * think))
    finally:
        await client.close()


class Stream:
    """One browser following a panel: an SSE stream, reopened after the server closes it."""

    def __init__(self, port: int, tenant: dict, token: str, panel_id: int):
        self.port, self.tenant, self.token, self.panel_id = port, tenant, token, panel_id
        self.opened = 0  # 200 answers with text/event-stream
        self.open = False
        self.first_open_s = None  # time to the first answer
        self.messages = 0
        self.events = 0
        self.ended = 0  # `event: end` (the panel became final)
        self.errors = []
        self.cross_tenant = 0
        self.gaps = []  # seconds between messages while open
        self.last_id = None

    async def follow(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            headers = {"Authorization": f"Token {self.token}", "Accept": "text/event-stream",
                       "Cache-Control": "no-cache"}
            if self.last_id is not None:
                headers["Last-Event-ID"] = str(self.last_id)
            writer = None
            try:
                started = time.perf_counter()
                reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
                writer.write(request_bytes("GET", f"/api/v1/panels/{self.panel_id}/events/",
                                           f"{self.tenant['host']}:{self.port}", headers))
                await writer.drain()
                status, response_headers = await asyncio.wait_for(read_head(reader), timeout=60)
                if status != 200 or "text/event-stream" not in response_headers.get("content-type", ""):
                    body = b"".join([p async for p in body_pieces(reader, response_headers)])
                    self.errors.append(f"{status} {body[:200]!r}")
                    await asyncio.sleep(1)
                    continue
                self.opened += 1
                self.first_open_s = self.first_open_s or time.perf_counter() - started
                self.open = True
                await self._read(reader, response_headers, stop)
            except (OSError, ValueError, TimeoutError, asyncio.IncompleteReadError) as exc:
                self.errors.append(f"{type(exc).__name__}: {exc}")
                await asyncio.sleep(1)
            finally:
                self.open = False
                if writer is not None:
                    writer.close()

    async def _read(self, reader, headers: dict, stop: asyncio.Event) -> None:
        buffer, last = "", time.monotonic()
        pieces = body_pieces(reader, headers)
        while not stop.is_set():
            next_piece = asyncio.ensure_future(pieces.__anext__())
            stopping = asyncio.ensure_future(stop.wait())
            done, _ = await asyncio.wait({next_piece, stopping}, timeout=30, return_when=asyncio.FIRST_COMPLETED)
            if next_piece not in done:
                next_piece.cancel()
                stopping.cancel()
                if not stop.is_set():
                    raise TimeoutError("no message for 30 s")
                return
            stopping.cancel()
            try:
                piece = next_piece.result()
            except StopAsyncIteration:
                return  # the server closed the stream (its lifetime): reopened by follow()
            buffer += piece.decode("utf-8", errors="replace")
            while "\n\n" in buffer:
                message, buffer = buffer.split("\n\n", 1)
                now = time.monotonic()
                self.gaps.append(now - last)
                last = now
                self.messages += 1
                if any(mark in message for mark in ALL_MARKERS if mark != self.tenant["marker"]):
                    self.cross_tenant += 1
                for line in message.splitlines():
                    if line.startswith("id:"):
                        self.last_id = int(line[3:].strip())
                        self.events += 1
                    elif line.startswith("event: end"):
                        self.ended += 1


ALL_MARKERS: list[str] = []


async def run_load(port: int, tenants: list[dict], args, probe: ServerProbe) -> tuple[Results, list[Stream], float]:
    results = Results(ALL_MARKERS)
    streams = []
    for number in range(args.streams):
        tenant = tenants[number % len(tenants)]
        token, panel_id = tenant["streams"][(number // len(tenants)) % len(tenant["streams"])]
        streams.append(Stream(port, tenant, token, panel_id))
    stop = asyncio.Event()
    sampler = asyncio.ensure_future(sample_postgres_connections(probe, stop))
    followers = [asyncio.ensure_future(stream.follow(stop)) for stream in streams]
    started = time.monotonic()
    while sum(stream.open for stream in streams) < len(streams) and time.monotonic() - started < 60:
        await asyncio.sleep(0.2)
    print(f"streams open before the load: {sum(s.open for s in streams)} of {len(streams)} "
          f"(in {time.monotonic() - started:.1f} s)")

    def clients(results: Results, seconds: float, seed: int) -> list:
        deadline = time.monotonic() + seconds
        made = []
        for number in range(args.clients):
            tenant = tenants[number % len(tenants)]
            user = tenant["users"][(number // len(tenants)) % len(tenant["users"])]
            made.append(api_client(number, seed, port, tenant, user, results, deadline=deadline, think=args.think,
                                   mix=args.mix))
        return made

    if args.warmup > 0:  # every web worker loads its models and fills its caches; not counted
        warmup = Results(ALL_MARKERS)
        await asyncio.gather(*clients(warmup, args.warmup, seed=1))
        print(f"warm-up: {sum(len(t) for t in warmup.times.values())} requests in {args.warmup:g} s, "
              f"{sum(warmup.errors.values())} errors, {sum(warmup.cross_tenant.values())} cross-tenant (not counted)")
    for stream in streams:
        stream.gaps.clear()  # from here on: under load
    probe.load_started(streams)
    load_started = time.monotonic()
    await asyncio.gather(*clients(results, args.seconds, seed=2))
    elapsed = time.monotonic() - load_started
    probe.load_ended(streams)
    stop.set()
    await asyncio.gather(sampler, *followers, return_exceptions=True)
    return results, streams, elapsed


# --- the report --------------------------------------------------------------------------


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.1f}"


def report(results: Results, streams: list[Stream], elapsed: float, args, probe: ServerProbe) -> None:
    print()
    print(f"{args.clients} API clients over {args.tenants} tenants for {elapsed:.0f} s "
          f"(think time {args.think:g} s +-50 %) with {args.streams} SSE streams open")
    print(f"web server: {probe.command}")
    print(f"{'endpoint':<10} {'count':>7} {'req/s':>7} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'errors':>7} "
          f"{'429':>5} {'cross':>6} {'own':>6}  goal")
    p95 = {}
    for endpoint in args.mix:
        times = results.times[endpoint]
        figures = f"{'-':>8} {'-':>8} {'-':>8}"
        if times:
            p95[endpoint] = _django.percentile(times, .95)
            figures = f"{ms(_django.median(times))} {ms(p95[endpoint])} {ms(max(times))}"
        goal = ""
        if endpoint in GOALS_MS:
            met = endpoint in p95 and p95[endpoint] * 1000 <= GOALS_MS[endpoint]
            goal = f"p95 <= {GOALS_MS[endpoint]} ms: {'met' if met else 'NOT met'}"
        print(f"{endpoint:<10} {len(times):>7} {len(times) / elapsed:>7.1f} {figures} {results.errors[endpoint]:>7} "
              f"{results.throttled[endpoint]:>5} {results.cross_tenant[endpoint]:>6} "
              f"{results.own_marker[endpoint]:>6}  {goal}")
    answered = sum(len(times) for times in results.times.values())
    errors, cross = sum(results.errors.values()), sum(results.cross_tenant.values())
    print(f"{'all':<10} {answered:>7} {answered / elapsed:>7.1f}{'':27} {errors:>7} "
          f"{sum(results.throttled.values()):>5} {cross:>6} {sum(results.own_marker.values()):>6}")
    print("(429: refused by a rate or plan limit, not counted as errors; cross: answers holding another tenant's "
          "marker; own: answers holding their own tenant's marker, i.e. tenant data the check looked at)")

    opened = sum(1 for stream in streams if stream.opened)
    gaps = [gap for stream in streams for gap in stream.gaps]
    stream_errors = [error for stream in streams for error in stream.errors]
    stream_cross = sum(stream.cross_tenant for stream in streams)
    print(f"SSE streams: {opened} of {len(streams)} opened, {probe.streams_open_at_end} open when the load ended, "
          f"{sum(stream.opened for stream in streams) - opened} reopened after the server closed them, "
          f"{len(stream_errors)} errors, {stream_cross} cross-tenant messages, "
          f"{sum(stream.ended for stream in streams)} ended (panel final)")
    if gaps:
        print(f"  between two messages of a stream under load (the server polls every 0.5 s): "
              f"p50 {ms(_django.median(gaps)).strip()} ms, p95 {ms(_django.percentile(gaps, .95)).strip()} ms, "
              f"max {ms(max(gaps)).strip()} ms ({len(gaps)} messages)")
    first = [stream.first_open_s for stream in streams if stream.first_open_s is not None]
    if first:
        print(f"  opening a stream (all {len(streams)} at once, before the load): p50 "
              f"{ms(_django.median(first)).strip()} ms, max {ms(max(first)).strip()} ms")
    before, after = probe.memory_before, probe.memory_after
    print(f"web server memory at the end ({after['processes']} processes): RSS {after['rss_mb']:.0f} MB, "
          f"PSS {after['pss_mb']:.0f} MB (before the streams and the load: RSS {before['rss_mb']:.0f} MB, "
          f"PSS {before['pss_mb']:.0f} MB)")
    states = ", ".join(f"{count} {state}" for state, count in sorted(probe.postgres_peak_states.items()))
    print(f"Postgres client connections: at most {probe.postgres_peak} ({states}) of max_connections "
          f"{probe.postgres_max} (sampled every second while the streams were open)"
          + (f"; {len(probe.postgres_errors)} samples failed: {probe.postgres_errors[0]}" if probe.postgres_errors else ""))
    cpu, wall = probe.cpu, probe.cpu["at"]
    print(f"CPU during the load ({os.cpu_count()} cores, {wall:.0f} s): " + ", ".join(
        f"{name} {cpu[name] / wall:.2f} cores" for name in ("web server", "worker and beat", "this bench"))
        + f", the rest (Postgres, Redis, other work on the machine) "
          f"{(cpu['machine'] - cpu['web server'] - cpu['worker and beat'] - cpu['this bench']) / wall:.2f} cores; "
          f"load average {probe.load_before:.1f} -> {probe.load_after:.1f}")
    if answered:
        print(f"  web server CPU per answered request (streams included): {cpu['web server'] / answered * 1000:.0f} ms")
    goals = [
        ("list and detail p95 <= 50 ms", all(e in p95 and p95[e] * 1000 <= GOALS_MS[e] for e in GOALS_MS)),
        ("0 errors", errors == 0 and not stream_errors),
        ("0 cross-tenant responses", cross == 0 and stream_cross == 0),
        (f"{len(streams)} streams open throughout", probe.streams_open_at_end == len(streams)),
    ]
    print("goals: " + "; ".join(f"{name}: {'met' if met else 'NOT met'}" for name, met in goals))
    for sample in results.samples:
        print(f"  e.g. {sample}")
    for error, count in Counter(error[:160] for error in stream_errors).most_common(4):
        print(f"  stream errors: {count} x {error}")


def mix_parse(text: str) -> dict:
    mix = {}
    for part in text.split(","):
        endpoint, _, weight = part.partition("=")
        if endpoint.strip() not in MIX or not weight.strip().isdigit():
            raise argparse.ArgumentTypeError(f"{part!r}: give endpoint=weight with endpoints from {', '.join(MIX)}.")
        mix[endpoint.strip()] = int(weight)
    return mix


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--tenants", type=int, default=5)
    parser.add_argument("--streams", type=int, default=200)
    parser.add_argument("--think", type=float, default=1.0, help="mean seconds between a client's requests")
    parser.add_argument("--warmup", type=float, default=10, help="seconds of the same load first, not counted")
    parser.add_argument("--completed", type=int, default=12, help="completed panels per tenant")
    parser.add_argument("--waiting", type=int, default=8, help="hybrid panels awaiting input per tenant (streamed)")
    parser.add_argument("--mix", type=mix_parse, default=MIX,
                        help="endpoint=weight,... (default list=30,detail=30,search=15,recommend=15,create=10)")
    args = parser.parse_args()

    port = int(os.environ.get("BENCH_PORT") or free_port())
    log_path = DATA_DIR / "launcher.log"
    started = time.perf_counter()
    launcher = launcher_start(port, log_path)
    tenants = []
    try:
        launcher_wait(launcher, port, log_path)
        print(f"service up on port {port} in {time.perf_counter() - started:.0f} s (data {DATA_DIR}, log {log_path})")
        started = time.perf_counter()
        _django.setup()
        tenants = tenants_prepare(args.tenants, completed=args.completed, waiting=args.waiting)
        ALL_MARKERS.extend(t["marker"] for t in tenants)
        print(f"{args.tenants} tenants ready in {time.perf_counter() - started:.0f} s: {len(USERS)} users, "
              f"{len(DOCUMENTS)} documents, {args.completed} completed and {args.waiting} waiting panels each")
        probe = ServerProbe(launcher.pid, port)
        results, streams, elapsed = asyncio.run(run_load(port, tenants, args, probe))
        report(results, streams, elapsed, args, probe)
    finally:
        launcher_stop(launcher)
    # Once the worker is stopped (it may be running one of them); Postgres stays up while
    # this process holds it.
    print(f"deleted the {load_panels_delete(tenants)} panels the load created")


if __name__ == "__main__":
    main()
