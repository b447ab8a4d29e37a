"""`make run`'s web server (the launcher's own command: uvicorn under ASGI, two worker
processes, DEBUG off) as a real process on the test database: WhiteNoise serves the static
files pages load, and 200 open event streams neither starve the API nor hold a Postgres
connection each."""

import asyncio
import json
import os
import re
import socket
import subprocess
import threading
import time
import urllib.request
import uuid
from email.message import Message
from pathlib import Path

import psycopg
import pytest
from django_tenants.utils import schema_context

from config.launcher import web_server_command
from tests.conftest import make_token, tenant_domain
from tests.conftest import test_database_url as database_url_of_the_tests
from tests.factories import make_panel, make_user

pytestmark = pytest.mark.slow

BASE_DIR = Path(__file__).resolve().parents[2]
STREAMS = 200
WORKERS = 2
THREADS = 8  # requests each process runs in Django at once (config/asgi.py)
APPLICATION_NAME = "askpanel-production-server-test"  # its Postgres connections, in pg_stat_activity


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    def __init__(self, port: int, log_path: Path):
        self.port = port
        self.log_path = log_path
        self.origin = f"http://127.0.0.1:{port}"
        self.host = f"{tenant_domain('alpha')}:{port}"

    def get(self, path: str, **headers) -> tuple[int, Message, bytes]:
        request = urllib.request.Request(self.origin + path, headers={"Host": self.host, **headers})
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, response.headers, response.read()
        except urllib.error.HTTPError as refused:
            return refused.code, refused.headers, refused.read()

    def log_tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]

    def post(self, path: str, **headers) -> tuple[int, bytes]:
        request = urllib.request.Request(self.origin + path, data=b"", method="POST",
                                         headers={"Host": self.host, **headers})
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read()


@pytest.fixture(scope="module")
def server(django_db_setup):
    port = _free_port()
    database_url = database_url_of_the_tests()
    env = {
        **os.environ,
        "DATABASE_URL": f"{database_url}{'&' if '?' in database_url else '?'}application_name={APPLICATION_NAME}",
        "DEBUG": "false",
        "SECRET_KEY": "production-server-test-" + uuid.uuid4().hex * 2,
        "WEB_WORKERS": str(WORKERS),
        "WEB_THREADS": str(THREADS),
    }
    log_path = BASE_DIR / ".data" / f"production-server-{port}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "wb") as log:
        process = subprocess.Popen(web_server_command(port), cwd=BASE_DIR, env=env, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    served = Server(port, log_path)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, f"the server exited:\n{log_path.read_text()[-3000:]}"
            assert time.monotonic() < deadline, f"not serving after 60 s:\n{log_path.read_text()[-3000:]}"
            try:
                if served.get("/api/v1/health/")[0] == 200:
                    break
            except OSError:
                time.sleep(0.3)
        yield served
    finally:
        os.killpg(process.pid, 15)
        process.wait(30)
        log_path.unlink()  # a failing test quotes its end


@pytest.fixture(scope="module")
def followed(django_db_setup, django_db_blocker, catalog):
    """A queued panel of alpha (no worker runs it, so it stays open) and its owner's token."""
    from tenants.models import Tenant

    with django_db_blocker.unblock():
        alpha = Tenant.objects.get(schema_name="alpha")
        user = make_user(alpha, f"follower-{uuid.uuid4().hex[:6]}")
        panel = make_panel(alpha, user)
        yield {"panel": panel, "auth": {"Authorization": f"Token {make_token(alpha, user)}"}}
        with schema_context("alpha"):
            panel.delete()
            user.delete()


def test_static_files_are_served_by_whitenoise_with_debug_off(server):
    status, headers, body = server.get("/accounts/login/")
    assert status == 200
    assets = re.findall(r'(?:href|src)="(/static/[^"]+)"', body.decode())
    assert any(a.endswith(".css") for a in assets) and any(a.endswith(".js") for a in assets), assets
    for asset in assets:
        status, headers, body = server.get(asset)
        assert status == 200 and body, asset
        assert "max-age" in headers["Cache-Control"]  # WhiteNoise's header; Django serves no static with DEBUG off
    assert b"EventSource" in server.get("/static/askpanel/panel-live.js")[2]


async def _open_stream(server: Server, panel_id: int, auth: dict):
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    headers = {"Host": server.host, "Accept": "text/event-stream", **auth}
    writer.write((f"GET /api/v1/panels/{panel_id}/events/ HTTP/1.1\r\n"
                  + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n").encode())
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), f"{head!r}\n{server.log_tail()}"
    assert b"content-type: text/event-stream" in head.lower()
    return reader, writer


async def _read_until(reader, marker: bytes) -> bytes:
    seen = b""
    while marker not in seen:
        chunk = await reader.read(65536)
        assert chunk, f"the stream closed before {marker!r}: {seen[-300:]!r}"
        seen += chunk
    return seen


class ConnectionWatch(threading.Thread):
    """The server's Postgres connections, counted every 50 ms from a connection of its own:
    the latest count and the peak."""

    def __init__(self):
        super().__init__(daemon=True)
        self.latest = self.peak = 0
        self.stopped = threading.Event()

    def run(self):
        with psycopg.connect(database_url_of_the_tests(), autocommit=True) as db:
            while not self.stopped.is_set():
                self.latest = db.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = %s",
                                         [APPLICATION_NAME]).fetchone()[0]
                self.peak = max(self.peak, self.latest)
                self.stopped.wait(0.05)


def test_200_open_event_streams_do_not_starve_the_api(server, followed):
    panel, auth = followed["panel"], followed["auth"]
    loop = asyncio.new_event_loop()
    streams = []
    watch = ConnectionWatch()
    watch.start()

    async def open_stream():
        reader, writer = await _open_stream(server, panel.pk, auth)
        streams.append((reader, writer))
        await _read_until(reader, b": keep-alive")

    async def open_all():
        await asyncio.wait_for(asyncio.gather(*[open_stream() for _ in range(STREAMS)]), 60)

    try:
        loop.run_until_complete(open_all())
        assert len(streams) == STREAMS

        # The streams stay open (the server keeps writing to them) while the API answers.
        for _ in range(10):
            status, _, body = server.get("/api/v1/panels/", **auth)
            assert status == 200 and [p["id"] for p in json.loads(body)["results"]] == [panel.pk]
            status, _, body = server.get(f"/api/v1/panels/{panel.pk}/", **auth)
            assert status == 200
            detail = json.loads(body)
            assert (detail["id"], detail["query"], detail["status"]) == (panel.pk, panel.query, "queued")
        time.sleep(0.2)
        # Each process: its stream-read threads (2) and a request or two; never one per stream.
        assert 1 <= watch.latest <= WORKERS * 4, watch.latest

        # Every stream is live: a write through the API reaches all 200, and they end.
        assert server.post(f"/api/v1/panels/{panel.pk}/cancel/", **auth)[0] == 200

        async def read_all_to_the_end():
            return await asyncio.wait_for(asyncio.gather(*[_read_until(r, b"event: end") for r, _ in streams]), 90)

        endings = loop.run_until_complete(read_all_to_the_end())
        assert all(b'"status": "cancelled"' in ending for ending in endings)
        # Not even while 200 streams opened at once: the requests waited for one of the
        # THREADS places (each leaving its connection to close just after its response starts).
        assert watch.peak <= WORKERS * (2 * THREADS + 2), watch.peak
    finally:
        watch.stopped.set()
        for _, writer in streams:
            writer.close()
        loop.close()


def test_requests_share_the_processes_redis_connections(server, followed):
    """Under ASGI Django makes a cache object per request; the routing cache's Redis client is
    kept per process, so 60 requests do not open 60 Redis connections (they did)."""
    import redis
    from django.conf import settings

    stats = redis.Redis.from_url(settings.CACHES["default"]["LOCATION"])
    before = stats.info("stats")["total_connections_received"]
    for _ in range(60):
        status, _, body = server.get(f"/api/v1/panels/{followed['panel'].pk}/", **followed["auth"])
        assert status == 200 and json.loads(body)["id"] == followed["panel"].pk
    opened = stats.info("stats")["total_connections_received"] - before
    assert opened <= 2 * WORKERS * THREADS, f"{opened} Redis connections for 60 requests"
