"""No races: 20 simultaneous `POST /api/v1/panels/` over real HTTP against the live server
(a thread and a database connection per request, as in production) admit exactly one
panel when a limit leaves room for one: concurrent panels, panels per month, and a
monthly token budget that fits one panel's estimate."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from django_tenants.utils import schema_context

from tests.conftest import make_token
from tests.factories import QUESTION, make_tenant, make_user
from tests.live_server import LiveServer

pytestmark = pytest.mark.slow
SCHEMA = "racers"
REQUESTS = 20
BODY = {"query": QUESTION, "panel_type": "structured", "max_rounds": 1,
        "experts": ["fda-510k-specialist", "fda-de-novo-strategist", "samd-ai-regulatory-lead"]}
ROOMY = {"max_concurrent_panels": 100, "max_panels_per_month": 1000, "monthly_token_budget": 10**9,
         "monthly_cost_budget_usd": 10**6}


@pytest.fixture(scope="module")
def race(django_db_setup, django_db_blocker, catalog):
    """A committed tenant of its own, its token, and the app on a real port. Its panels go to
    a queue no worker reads: a panel finishing mid-race would free its slot (the session's
    worker, if another test started it, would otherwise run them)."""
    from config.celery import app

    previous_queue = app.conf.task_default_queue
    app.conf.task_default_queue = f"race-{SCHEMA}-nobody-listens"
    with django_db_blocker.unblock():
        tenant = make_tenant(SCHEMA, tier="enterprise", limits=ROOMY)
        server = LiveServer()
        try:
            token = make_token(tenant, make_user(tenant, "racer"))
            yield {"tenant": tenant, "server": server, "token": token, "blocker": django_db_blocker}
        finally:
            server.stop()
            tenant.delete(force_drop=True)
            app.conf.task_default_queue = previous_queue


def limits(race, **overrides) -> None:
    from panels.models import Panel
    from tenants.services import tenant_update_configuration

    with race["blocker"].unblock():
        with schema_context(SCHEMA):
            Panel.objects.all().delete()
        tenant_update_configuration(tenant=race["tenant"], limits={**ROOMY, **overrides})


def post_at_once(race) -> list[requests.Response]:
    """REQUESTS creates released together by a barrier, each on its own HTTP connection."""
    server, barrier = race["server"], threading.Barrier(REQUESTS)
    headers = {"Host": server.host(SCHEMA), "Authorization": f"Token {race['token']}"}

    def create(_):
        with requests.Session() as session:
            barrier.wait(timeout=30)
            return session.post(f"{server.origin}/api/v1/panels/", json=BODY, headers=headers, timeout=60)

    with ThreadPoolExecutor(max_workers=REQUESTS) as pool:
        return list(pool.map(create, range(REQUESTS)))


def outcome(race, responses) -> tuple[list[int], set[str], int]:
    from panels.models import Panel

    statuses = sorted(r.status_code for r in responses)
    codes = {r.json()["error"]["code"] for r in responses if r.status_code != 201}
    with race["blocker"].unblock(), schema_context(SCHEMA):
        return statuses, codes, Panel.objects.count()


def test_twenty_creates_against_one_concurrent_panel_admit_one(race):
    limits(race, max_concurrent_panels=1)
    statuses, codes, created = outcome(race, post_at_once(race))
    assert statuses == [201] + [429] * (REQUESTS - 1) and created == 1
    assert codes == {"limit_exceeded"}


def test_twenty_creates_against_one_panel_a_month_admit_one(race):
    limits(race, max_panels_per_month=1)
    statuses, codes, created = outcome(race, post_at_once(race))
    assert statuses == [201] + [429] * (REQUESTS - 1) and created == 1


def test_twenty_creates_against_a_budget_that_fits_one_panel_admit_one(race):
    from panels.selectors import panel_estimate

    with race["blocker"].unblock(), schema_context(SCHEMA):
        tokens = panel_estimate(tenant=race["tenant"], query=QUESTION, panel_type="structured", experts=3,
                                max_rounds=1, budget=False)["tokens"]
    limits(race, monthly_token_budget=tokens * 2 - 1)  # one panel fits; a second one would not
    responses = post_at_once(race)
    statuses, codes, created = outcome(race, responses)
    assert statuses == [201] + [429] * (REQUESTS - 1) and created == 1
    assert codes == {"budget_exceeded"}
    refused = [r.json()["error"]["details"] for r in responses if r.status_code == 429]
    assert all(d["reserved"] == tokens and d["remaining"] == tokens - 1 for d in refused)
