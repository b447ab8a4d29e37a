"""The web pages with 1,000 panels in the tenant, and how fast a contribution reaches a
connected browser.

    python bench/web.py [--panels 1000] [--requests 200] [--samples 20]

1. Server time (the WSGI application's call and its body, on a one-thread server on
   127.0.0.1 with DEBUG off, signed in) of the dashboard (/), the history (/panels/) and a completed
   panel's report (/panels/<id>/): p50 / p95 (goal p95 <= 100 ms). The panels are made with
   bulk_create (with their consensus), the report's panel is run for real (offline
   provider).
2. Contribution -> browser: Chromium (Playwright, Debian's /usr/bin/chromium, never a
   downloaded browser) keeps a running panel's live page open; a contribution and its
   event are saved the way the runner saves them, and the page notes when its card
   appears (both clocks are this machine's). p50 / p95 / max (goal <= 1 s).
Prints figures; asserts nothing. Uses its own data directory (.data/bench-web).
"""

import argparse
import os
import random
import shutil
import sys
import threading
import time
from pathlib import Path

os.environ.setdefault("ASKPANEL_DATA_DIR", str(Path(__file__).resolve().parent.parent / ".data" / "bench-web"))
os.environ.setdefault("DB_CONN_MAX_AGE", "60")  # persistent connections, as in production
# Pages as production serves them: DEBUG on adds query logging and template debugging
# (the report's p95 about doubles). DEBUG=true in the environment measures that instead.
os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("SECRET_KEY", "bench-web-only-not-a-secret-0123456789abcdef")
import _django  # noqa: E402

SCHEMA = "bench_web"
HOST = "bench-web.localhost"
QUESTIONS = [
    "Should we file a De Novo or a 510(k) for our AI-based ECG arrhythmia detection software?",
    "Is a decentralised phase III design acceptable to EMA for our rare-disease enzyme therapy?",
    "Which payer evidence do we need before launching the continuous glucose monitor in Germany?",
    "Can real-world evidence replace the control arm for our label expansion in NSCLC?",
]
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def bulk_panels(user, count: int) -> None:
    """`count` completed panels with their consensus, in two bulk inserts."""
    from datetime import timedelta

    from django.utils import timezone

    from panels.models import Consensus, Panel

    now = timezone.now()
    kinds = ["structured", "open", "socratic", "adversarial", "delphi", "hybrid"]
    panels = Panel.objects.bulk_create([
        Panel(query=f"{QUESTIONS[i % len(QUESTIONS)]} (case {i})", panel_type=kinds[i % len(kinds)],
              status=Panel.Status.COMPLETED, owner=user, tenant_schema=SCHEMA,
              settings={"max_rounds": 2, "consensus_threshold": 0.7}, current_round=2,
              tokens_used=12_000, started_at=now - timedelta(minutes=i), finished_at=now - timedelta(minutes=i))
        for i in range(count)
    ], batch_size=500)
    Consensus.objects.bulk_create([
        Consensus(panel=panel, score=0.4 + (i % 50) / 100, level=("low", "medium", "high")[i % 3], threshold=0.7,
                  reached=i % 2 == 0, majority_stance="support")
        for i, panel in enumerate(panels)
    ], batch_size=500)


def signed_in_cookie(user) -> str:
    """A session for `user`, as the sign-in page makes one."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    store = SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    return store.session_key


class Timed:
    """Wraps the WSGI application: seconds spent in the call and the response body, per path."""

    def __init__(self, app):
        self.app, self.times = app, {}

    def __call__(self, environ, start_response):
        started = time.perf_counter()
        body = b"".join(self.app(environ, start_response))
        self.times.setdefault(environ["PATH_INFO"], []).append(time.perf_counter() - started)
        return [body]


def serve(app, *, threaded: bool):
    """One thread, like a sync worker (its database connection persists), for the page
    times; a thread per connection for the live page (its event stream holds one)."""
    from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler, WSGIServer

    class Quiet(WSGIRequestHandler):
        def log_message(self, *args):
            pass

    server = (ThreadedWSGIServer if threaded else WSGIServer)(("127.0.0.1", 0), Quiet)
    server.set_app(app)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def get(port: int, path: str, cookie: str) -> int:
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port)
    conn.request("GET", path, headers={"Host": f"{HOST}:{port}", "Cookie": f"sessionid={cookie}"})
    response = conn.getresponse()
    response.read()
    conn.close()
    return response.status


def page_times(port: int, cookie: str, timed: Timed, paths: dict, requests: int) -> None:
    for path in paths.values():  # warm up (templates, connections)
        for _ in range(10):
            assert get(port, path, cookie) == 200, path
    timed.times.clear()
    for _ in range(requests):  # interleaved, page by page
        for path in paths.values():
            get(port, path, cookie)
    from django.conf import settings

    print(f"server time with {args.panels} panels ({requests} requests each, DEBUG {settings.DEBUG}), ms:")
    for name, path in paths.items():
        values = timed.times[path]
        print(f"  {name:<10} p50 {_django.median(values) * 1000:6.1f}   p95 {_django.percentile(values, .95) * 1000:6.1f}"
              f"   (goal p95 <= 100)")


def save_contributions(panel, members, samples: int) -> dict[int, float]:
    """Contributions and their events saved as the runner saves them, at random moments;
    the wall-clock millisecond each was committed."""
    from panels.models import Contribution, PanelEvent, Round

    saved = {}
    for index in range(samples):
        number, member = index // len(members) + 1, members[index % len(members)]
        round_, _ = Round.objects.get_or_create(panel=panel, number=number, defaults={"title": f"Round {number}"})
        time.sleep(random.uniform(0.2, 1.0))  # land anywhere in the stream's polling cycle
        contribution = Contribution.objects.create(
            panel=panel, round=round_, member=member, kind=Contribution.Kind.STATEMENT,
            text=f"Contribution {index}: the predicate search supports a 510(k).", stance="support")
        PanelEvent.objects.create(panel=panel, kind="contribution", data={
            "round": number, "member": member.display_name, "kind": "statement", "contribution_id": contribution.pk})
        saved[contribution.pk] = time.time() * 1000  # committed (autocommit)
    return saved


def live_latency(port: int, cookie: str, user, samples: int) -> None:
    from django_tenants.utils import schema_context

    from panels.models import Panel
    from panels.services import panel_create

    chromium = os.environ.get("CHROMIUM") or shutil.which("chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        chromium = None
    if not chromium:
        print("contribution -> browser: skipped (needs playwright and Debian's chromium)")
        return

    panel = panel_create(user=user, query=QUESTIONS[0], panel_type="open", enqueue=False)
    for status in (Panel.Status.ASSIGNING_EXPERTS, Panel.Status.IN_PROGRESS):  # as the runner moves it
        panel.transition(status)
    members = list(panel.members.all())
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's loop runs on this thread
    latencies = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.context.add_cookies([{"name": "sessionid", "value": cookie, "domain": HOST, "path": "/"}])
        page.goto(f"http://{HOST}:{port}/panels/{panel.pk}/")
        page.evaluate("""() => { window.seen = {};
          new MutationObserver(records => records.forEach(r => r.addedNodes.forEach(node => {
            if (node.nodeType === 1 && node.matches('article.contribution')) window.seen[node.dataset.contributionId] = Date.now();
          }))).observe(document.body, {childList: true, subtree: true}); }""")
        page.wait_for_timeout(1500)  # the event stream is open
        # Inside Playwright's loop Django hands this thread another connection: enter the
        # tenant on that one.
        with schema_context(SCHEMA):
            saved = save_contributions(panel, members, samples)
        page.wait_for_function(f"Object.keys(window.seen).length >= {samples}", timeout=30_000)
        seen = page.evaluate("window.seen")
        latencies = [(seen[str(pk)] - at) / 1000 for pk, at in saved.items()]
        browser.close()
        from django.db import connections

        connections.close_all()
    panel.transition(Panel.Status.CANCELLED)
    print(f"contribution saved -> card visible in the browser ({samples} contributions), ms:")
    print(f"  p50 {_django.median(latencies) * 1000:6.0f}   p95 {_django.percentile(latencies, .95) * 1000:6.0f}"
          f"   max {max(latencies) * 1000:6.0f}   (goal <= 1000; the stream polls every 0.5 s)")


def main() -> None:
    _django.setup()
    from django.conf import settings
    from django_tenants.utils import schema_context

    from agents.services import agents_load
    from panels.models import Panel
    from panels.orchestration.runner import panel_run
    from panels.services import panel_create
    from tenants.services import tenant_update_configuration

    agents_load()
    tenant, user, _ = _django.bench_tenant(SCHEMA, tier="enterprise", is_admin=True)
    tenant_update_configuration(tenant=tenant, limits={"max_concurrent_panels": 1000, "max_panels_per_month": 1_000_000})
    settings.LLM_PROVIDER = "offline"

    with schema_context(SCHEMA):
        Panel.objects.all().delete()
        report_id = panel_create(user=user, query=QUESTIONS[0], panel_type="open", enqueue=False).pk
        panel_run(panel_id=report_id)
        bulk_panels(user, args.panels - 1)
        cookie = signed_in_cookie(user)

    from config.wsgi import application

    timed = Timed(application)
    server = serve(timed, threaded=False)
    paths = {"dashboard": "/", "history": "/panels/", "report": f"/panels/{report_id}/"}
    page_times(server.server_port, cookie, timed, paths, args.requests)
    server.shutdown()

    live_server = serve(application, threaded=True)
    with schema_context(SCHEMA):
        live_latency(live_server.server_port, cookie, user, args.samples)
    live_server.shutdown()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--panels", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--samples", type=int, default=20)
    args = parser.parse_args()
    sys.exit(main())
