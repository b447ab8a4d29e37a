"""The cross-tenant attack matrix (issue 18): every API endpoint and every page of a tenant
host × every way into a tenant, each with its expected status, no byte of the other
tenant's data in the answer, and no write reaching the other tenant. Then the channels
that are not requests: cache keys, a Celery task, log lines, media files and SSE streams.

Two fresh tenants are built once for the module (committed, dropped after), in the same
order, so their ids collide: panel 1, document 1, template 1, private expert
`amx-private-lead` exist in both with different content. Every case runs inside a
transaction that is rolled back, so a write (the control's or a leaking one) is undone and
the next case sees the same data. Routes and ways in: tests/tenants/attack_matrix.py.
"""

from __future__ import annotations

import io
import json
import logging

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.test import Client
from django_tenants.utils import schema_context

from tests.conftest import make_token, media_root_at, tenant_domain
from tests.factories import QUESTION, make_document, make_panel, make_tenant, make_user
from tests.panels.conftest import DEVICE_NOTE
from tests.tenants.attack_matrix import (
    ADMIN_ONLY,
    HEALTH,
    HOME,
    MARK,
    OTHER,
    OWNER_ONLY,
    PASSWORD,
    QUERY,
    UNKNOWN_HOST,
    WRITES,
    Route,
    control_status,
    tenant_routes,
)

PRIVATE_SLUG = "amx-private-lead"
FOREIGN_SLUG = "amx-globex-only"


def png_bytes(colour) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (40, 20), colour).save(buffer, "PNG")
    return buffer.getvalue()


def private_expert(slug: str, mark: str) -> dict:
    return {
        "slug": slug, "name": f"Dr. Quist {mark}", "title": f"Lyophilisation lead {mark}", "domain": "cmc_quality",
        "business_function": "CMC", "disposition": "skeptic",
        "capabilities": [f"Designs freeze-drying cycles for biologics vials {mark}"],
        "knowledge_domains": ["Lyophilisation of monoclonal antibodies"],
        "key_considerations": ["Collapse temperature sets the shelf temperature limit."],
        "system_prompt": f"You are our lyophilisation lead {mark}.",
    }


def template_body(name: str, experts: list[str]) -> dict:
    return {"name": name, "description": f"Our standard regulatory panel {name}.", "panel_type": "structured",
            "experts": experts, "max_rounds": 2, "shared": True,
            "question_template": "Should we file a De Novo or a 510(k) for {product}?"}


def session_key(host: str, schema: str, user) -> str:
    client = Client(HTTP_HOST=host)
    with schema_context(schema):
        client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def tenant_data(tenant, *, extra: bool) -> dict:
    """The same objects in the same order in each tenant (so their ids collide), each
    carrying the tenant's marker; `extra` adds objects the other tenant lacks (ids 2)."""
    from panels.models import Contribution
    from panels.orchestration.runner import panel_run
    from rag.models import Chunk
    from rag.services import document_delete
    from tenants.services import tenant_branding_set
    from tests.panels.pages import experts

    schema, mark, host = tenant.schema_name, MARK[tenant.schema_name], tenant_domain(tenant.schema_name)
    admin = make_user(tenant, "admin", PASSWORD[schema], is_admin=True)
    member = make_user(tenant, "member", PASSWORD[schema])
    make_document(tenant, "note.md", DEVICE_NOTE + f"\n\nInternal reference {mark}.".encode(),
                  title=f"Device pathways note {mark}", user=admin)
    panel = make_panel(tenant, admin, query=f"{QUESTION} ({mark})")
    with schema_context(schema):
        panel_run(panel_id=panel.pk)
    tokens = {"admin": make_token(tenant, admin), "member": make_token(tenant, member)}
    api = Client(HTTP_HOST=host, HTTP_AUTHORIZATION=f"Token {tokens['admin']}")
    with schema_context(schema):
        catalog_experts = experts(3)
    created = api.post("/api/v1/panel-templates/", template_body(f"Pathway review {mark}", catalog_experts),
                       content_type="application/json")
    assert created.status_code in (201, 404), created.content  # 404: no templates on this checkout yet
    created = api.post("/api/v1/custom-agents/", private_expert(PRIVATE_SLUG, mark), content_type="application/json")
    assert created.status_code == 201, created.content
    colour = (200, 30, 30) if schema == HOME else (30, 30, 200)
    tenant = tenant_branding_set(tenant=tenant, branding={},
                                 logo=SimpleUploadedFile("logo.png", png_bytes(colour), content_type="image/png"))
    if extra:
        make_user(tenant, "outsider", PASSWORD[schema])
        make_document(tenant, "other.md", DEVICE_NOTE, title=f"Second note {mark}", user=admin)
        make_panel(tenant, admin, query=f"{QUESTION} second ({mark})")
        api.post("/api/v1/panel-templates/", template_body(f"Second review {mark}", catalog_experts),
                 content_type="application/json")
        api.post("/api/v1/custom-agents/", private_expert(FOREIGN_SLUG, mark), content_type="application/json")
    # An audited change naming the tenant's marker (its audit trail must never show on the other's).
    retired = make_document(tenant, "retired.md", DEVICE_NOTE + f"\n\nRetired {mark}.".encode(),
                            title=f"Retired note {mark}", user=admin)
    with schema_context(schema):
        document_delete(document_id=retired.pk, user=admin)
        contributions = set(Contribution.objects.values_list("id", flat=True))
        chunks = set(Chunk.objects.values_list("id", flat=True))
    return {
        "tenant": tenant, "admin": admin, "member": member, "tokens": tokens,
        "sessions": {"admin": session_key(host, schema, admin), "member": session_key(host, schema, member)},
        "logo": tenant.configuration.branding.logo_url.removeprefix("/branding/"),
        "catalog_slug": catalog_experts[0], "contributions": contributions, "chunks": chunks,
    }


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, catalog, tmp_path_factory):
    """The two tenants with colliding ids, committed; dropped (with their files) after."""
    from rag.models import Document
    from tenants.models import Tenant

    with media_root_at(tmp_path_factory.mktemp("attack-media")) as media, django_db_blocker.unblock():
        made = []
        try:
            for schema in (HOME, OTHER):
                made.append(make_tenant(schema, name=f"Matrix {schema}", tier="enterprise"))
            data = {HOME: tenant_data(made[0], extra=False), OTHER: tenant_data(made[1], extra=True)}
            yield {**data, "media": media}
        finally:
            connection.set_schema_to_public()
            for tenant in made:
                with schema_context(tenant.schema_name):
                    for document in Document.objects.all():
                        document.file.delete(save=False)
                Tenant.objects.get(pk=tenant.pk).delete(force_drop=True)


# --- The ways in ------------------------------------------------------------------------

PLATFORM = "platform"
# way: (host, whose credentials, X-Tenant-ID). Credentials are HOME's admin unless named.
WAYS = {
    "own": (HOME, "admin", None),
    "own-host+anonymous": (HOME, None, None),
    "other-host+token": (OTHER, "admin", None),
    "other-host+session": (OTHER, "admin", None),
    "header-other+token": (PLATFORM, "admin", OTHER),
    "header-other+session": (PLATFORM, "admin", OTHER),
    "header-other+anonymous": (PLATFORM, None, OTHER),
    "header-disagrees-with-host": (HOME, "admin", OTHER),
    "platform-host+no-header": (PLATFORM, "admin", None),
    "unknown-host": (UNKNOWN_HOST, "admin", None),
    "suspended-tenant": (HOME, "admin", None),
    "member": (HOME, "member", None),
    "other-tenants-id": (HOME, "admin", None),
}
# Ways whose answer may show HOME's own data; every other way must show neither tenant's.
SERVED_AS_HOME = {"own", "member", "other-tenants-id", "header-disagrees-with-host"}
ID_PARAMS = {"panel_id", "document_id", "template_id", "slug", "user_id", "chunk_id", "contribution_id", "name"}


def uses_session(route: Route, way: str) -> bool:
    """Pages are signed in with a session; the API with a token unless the way says session."""
    if way.endswith("+session"):
        return True
    if way.endswith("+token"):
        return False
    return route.kind == "page"


def ways_for(route: Route) -> list[str]:
    ways = []
    for way in WAYS:
        if way == "member" and (route.method, route.path) not in ADMIN_ONLY | set(OWNER_ONLY):
            continue
        if way == "other-tenants-id" and not set(route.params) & ID_PARAMS:
            continue
        if route.kind == "page" and way in ("header-other+token", "header-other+anonymous"):
            continue  # pages ignore the header: header-other+session covers them
        ways.append(way)
    return ways


def expected_status(route: Route, way: str) -> int | set[int]:
    """The contract (tenants/middleware.py, tenants/api/base.py): refusals before any view
    runs are the same for every endpoint; the control and the roles come from the table."""
    if route.path == HEALTH:
        return {200, 503}  # liveness on any host, no tenant, no data (503: no worker in this test)
    if way == "unknown-host":
        return 404
    if way == "suspended-tenant":
        return 403
    if route.kind == "api":
        if way == "header-disagrees-with-host":
            return 403
        if way == "platform-host+no-header":
            return 404  # the platform host has no tenant endpoints
        if way == "own":
            return control_status(route)
        if route.path == "/api/v1/auth/token/":
            return 200 if way == "own-host+anonymous" else 400  # the body carries the credentials  # HOME's username and password mean nothing in OTHER
        if way == "member":
            return OWNER_ONLY.get((route.method, route.path), 403)
        if way == "other-tenants-id":
            return 404
        return 401  # no credentials, or HOME's, which do not exist in OTHER
    # pages: the header is ignored (pages are served on tenant hosts only)
    if way in ("own", "header-disagrees-with-host"):
        return control_status(route)
    if way in ("header-other+session", "platform-host+no-header"):
        return 200 if route.path == "/" and route.method == "GET" else 404  # the platform's own home page
    if way == "member":
        return OWNER_ONLY.get((route.method, route.path), 403)
    if way == "other-tenants-id":
        return 404
    # signed out (own host), or HOME's session or token on OTHER's host: unknown there
    if route.path == "/branding/{name}":
        return 200 if way == "own-host+anonymous" else 404  # HOME's logo is not served on OTHER's host
    if route.path == "/accounts/login/":
        return 200 if route.method == "GET" or way != "own-host+anonymous" else 302
    return 302  # to the sign-in page


def fill(route: Route, world: dict, *, foreign: bool) -> str:
    """The route with ids that exist in both tenants (or, `foreign`, only in OTHER)."""
    from tenants.billing.statements import month_of

    home, other = world[HOME], world[OTHER]
    shared_slug = home["catalog_slug"] if route.path.startswith("/api/v1/agents/") else PRIVATE_SLUG
    values = {
        "panel_id": 1, "document_id": 1, "template_id": 1, "slug": shared_slug, "user_id": home["member"].pk,
        "contribution_id": min(home["contributions"] & other["contributions"]),
        "chunk_id": min(home["chunks"] & other["chunks"]),
        "month": month_of().strftime("%Y-%m"), "name": home["logo"],
    }
    if foreign:
        values |= {
            "panel_id": 2, "document_id": 2, "template_id": 2, "slug": FOREIGN_SLUG, "user_id": 3,
            "chunk_id": max(other["chunks"] - home["chunks"]), "name": other["logo"],
        }
    return route.path.format(**values) + QUERY.get(route.path, "")


def request_body(route: Route) -> tuple[dict | bytes | None, str | None]:
    """A valid body for the control (neutral text: no tenant's marker); (data, content type)."""
    key = (route.method, route.path)
    if route.kind == "page":
        if route.path == "/accounts/login/":
            return {"username": "admin", "password": PASSWORD[HOME]}, None
        return ({}, None) if route.method == "POST" else (None, None)
    if route.method not in WRITES:
        return None, None
    if key == ("POST", "/api/v1/documents/"):
        return {"file": SimpleUploadedFile("upload.md", DEVICE_NOTE, content_type="text/markdown")}, None
    bodies = {
        ("POST", "/api/v1/auth/token/"): {"username": "admin", "password": PASSWORD[HOME]},
        ("POST", "/api/v1/panels/"): {"query": QUESTION, "panel_type": "structured"},
        ("POST", "/api/v1/panels/estimate/"): {"query": QUESTION, "panel_type": "structured"},
        ("POST", "/api/v1/panels/{panel_id}/human-input/"): {"expert_name": "Dr. Human", "text": "A considered view of the pathway."},
        ("POST", "/api/v1/panels/{panel_id}/rating/"): {"score": 5, "comment": "Useful."},
        ("PUT", "/api/v1/agent-preferences/"): {"preferred": {}, "disabled": []},
        ("POST", "/api/v1/custom-agents/"): private_expert("amx-new-expert", "neutral"),
        ("PUT", "/api/v1/custom-agents/{slug}/"): private_expert(PRIVATE_SLUG, "neutral"),
    }
    if key in bodies:
        return json.dumps(bodies[key]), "application/json"
    if route.path.startswith("/api/v1/panel-templates/") and route.method in ("POST", "PUT") \
            and not route.path.endswith("/favourite/"):
        from tests.panels.pages import experts
        return json.dumps(template_body("Neutral review", experts(3))), "application/json"
    return (json.dumps({}), "application/json") if route.method != "DELETE" else (None, None)


def client_for(route: Route, way: str, world: dict, *, accept: str | None = None) -> Client:
    host_of, who, header = WAYS[way]
    host = {PLATFORM: settings.BASE_DOMAIN}.get(host_of) or tenant_domain(host_of)
    headers = {"HTTP_HOST": host}
    if header is not None:
        headers["HTTP_X_TENANT_ID"] = header
    if accept:
        headers["HTTP_ACCEPT"] = accept
    if who is not None and not uses_session(route, way):
        headers["HTTP_AUTHORIZATION"] = f"Token {world[HOME]['tokens'][who]}"
    client = Client(**headers)
    if who is not None and uses_session(route, way):
        client.cookies[settings.SESSION_COOKIE_NAME] = world[HOME]["sessions"][who]
    return client


def send(client: Client, route: Route, path: str):
    data, content_type = request_body(route)
    method = route.method.lower()
    if data is None:
        return getattr(client, method)(path)
    if content_type is None:
        return getattr(client, method)(path, data)
    return getattr(client, method)(path, data, content_type=content_type)


def answer_bytes(response) -> bytes:
    body = b"".join(response.streaming_content) if response.streaming else response.content
    headers = "\n".join(f"{name}: {value}" for name, value in response.items()).encode()
    return headers + b"\n\n" + body


def writes_so_far(schemas: tuple[str, ...]) -> dict[tuple[str, str], int]:
    """Rows inserted, updated or deleted in each table of these schemas by the current
    transaction (Postgres counts them per transaction; the test client shares it)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT schemaname, relname, n_tup_ins + n_tup_upd + n_tup_del "
                       "FROM pg_stat_xact_user_tables WHERE schemaname = ANY(%s)", [list(schemas)])
        return {(schema, table): count for schema, table, count in cursor.fetchall()}


def changed_tables(before: dict, after: dict, schema: str) -> list[str]:
    return sorted(table for (name, table), count in after.items()
                  if name == schema and count != before.get((name, table), 0))


def run_case(world, django_db_blocker, route: Route, way: str, *, accept: str | None = None):
    """The request inside a transaction that is rolled back; returns (response, answer
    bytes, tables of OTHER changed, tables of HOME changed)."""
    from tenants.models import Tenant
    from tenants.services import tenant_set_status

    foreign = way == "other-tenants-id"
    path = fill(route, world, foreign=foreign)
    with django_db_blocker.unblock(), transaction.atomic():
        connection.set_schema_to_public()
        before = writes_so_far((HOME, OTHER))
        if way == "suspended-tenant":
            tenant_set_status(tenant=Tenant.objects.get(schema_name=HOME), status="suspended",
                              reason="Matrix check.")
        response = send(client_for(route, way, world, accept=accept), route, path)
        answer = answer_bytes(response)
        after = writes_so_far((HOME, OTHER))
        transaction.set_rollback(True)
    return response, answer, changed_tables(before, after, OTHER), changed_tables(before, after, HOME)


def case_id(route: Route, way: str) -> str:
    return f"{route} | {way}"


ROUTES = tenant_routes()
CASES = [(route, way) for route in ROUTES for way in ways_for(route)]


def test_the_matrix_covers_every_route_and_enough_cases():
    api = {route.path for route in ROUTES if route.kind == "api"}
    pages = {route.path for route in ROUTES if route.kind == "page"}
    assert {"/api/v1/panels/{panel_id}/", "/api/v1/documents/{document_id}/", "/api/v1/usage/"} <= api
    assert {"/", "/panels/{panel_id}/", "/documents/{document_id}/", "/settings/", "/branding/{name}"} <= pages
    assert len(CASES) >= 200, len(CASES)


@pytest.mark.parametrize("route, way", CASES, ids=[case_id(*case) for case in CASES])
def test_attack(world, django_db_blocker, route, way):
    response, answer, other_changed, home_changed = run_case(world, django_db_blocker, route, way)

    expected = expected_status(route, way)
    allowed = expected if isinstance(expected, set) else {expected}
    assert response.status_code in allowed, (
        f"{route} by {way}: expected {sorted(allowed)}, got {response.status_code}: {answer[-600:]!r}")
    if response.status_code == 302 and way not in SERVED_AS_HOME and route.path != "/accounts/login/":
        assert response["Location"].startswith(settings.LOGIN_URL), response["Location"]
    assert MARK[OTHER].encode() not in answer, f"{OTHER}'s data in the answer to {route} by {way}"
    if way not in SERVED_AS_HOME:
        assert MARK[HOME].encode() not in answer, f"{HOME}'s data in a refused answer to {route} by {way}"
    assert not other_changed, f"{route} by {way} wrote to {OTHER}: {other_changed}"
    signing_in = way == "own-host+anonymous" and route.path in ("/accounts/login/", "/api/v1/auth/token/")
    if way not in SERVED_AS_HOME and not signing_in:  # signing in on HOME's host writes HOME's session
        assert not home_changed, f"{route} by {way} wrote to {HOME}: {home_changed}"
    if way == "own" and route.kind == "api" and response.status_code in (201, 204):  # created or deleted
        assert home_changed, f"the control's write {route} was not seen: the write detector is blind"


# --- The channels that are not requests ---------------------------------------------------

SSE_WAYS = ["own", "other-host+token", "other-host+session", "header-other+token", "header-other+anonymous",
            "header-disagrees-with-host", "other-tenants-id"]
EVENTS = Route("/api/v1/panels/{panel_id}/events/", "GET", "api")


@pytest.mark.parametrize("way", SSE_WAYS)
def test_an_event_stream_carries_only_its_tenants_events(world, django_db_blocker, way):
    response, answer, _, _ = run_case(world, django_db_blocker, EVENTS, way, accept="text/event-stream")

    assert response.status_code == expected_status(EVENTS, way), answer[-400:]
    assert MARK[OTHER].encode() not in answer
    if way == "own":
        assert response["Content-Type"].startswith("text/event-stream")
        assert b"event: end" in answer  # panel 1 has completed: the stream replays it and ends
    else:
        assert b"event:" not in answer and MARK[HOME].encode() not in answer


def test_cached_values_sit_under_the_schema_of_the_tenant_that_made_them(world, django_db_blocker):
    """A failed sign-in is counted in the cache (tenants/throttling.py): each tenant's count
    is under its own schema's prefix, so one tenant's failures never lock the other's users."""
    from django.core.cache import cache

    from tenants.throttling import _keys

    raw = cache._cache.get_client(write=True)
    probes = {HOME: "amx-cache-probe-acme", OTHER: "amx-cache-probe-globex"}
    with django_db_blocker.unblock():
        for schema, username in probes.items():
            for client in (Client(HTTP_HOST=tenant_domain(schema)), Client(HTTP_HOST=settings.BASE_DOMAIN,
                                                                           HTTP_X_TENANT_ID=schema)):
                refused = client.post("/api/v1/auth/token/", {"username": username, "password": "wrong"},
                                      content_type="application/json")
                assert refused.status_code == 400
    keys = [key.decode() for key in raw.scan_iter(match="*signin-failures*", count=1000)]
    for schema, username in probes.items():
        user_key = _keys(username=username, ip="")[0][0]
        holding = [key for key in keys if key.endswith(user_key)]
        assert holding and all(key.startswith(f"{schema}:") for key in holding), (schema, holding)
        counted = raw.get(holding[0])
        assert int(counted) == 2, counted  # host and header: the same tenant, one count
    assert all(key.split(":", 1)[0] in (HOME, OTHER, "alpha", "beta", "public") for key in keys), keys


@pytest.mark.slow
def test_a_task_enqueued_by_one_tenant_runs_in_its_schema(world, celery_worker, django_db_blocker):
    from django.contrib.auth import get_user_model

    from tenants.tasks import tenant_probe

    with django_db_blocker.unblock():
        with schema_context(HOME):
            ran = tenant_probe.delay().get(timeout=30)
            users_home = get_user_model().objects.count()
        with schema_context(OTHER):
            users_other = get_user_model().objects.count()
    assert ran == {"schema": HOME, "users": users_home}
    assert users_home != users_other  # OTHER has one more user: a count from its schema would differ


def test_log_lines_name_the_tenant_that_routed_the_request(world, django_db_blocker, caplog):
    from django_tenants.log import TenantContextFilter

    caplog.handler.addFilter(TenantContextFilter())
    caplog.set_level(logging.WARNING, logger="django.request")
    ways = {
        tenant_domain(HOME): {},
        tenant_domain(OTHER): {},
        settings.BASE_DOMAIN: {"HTTP_X_TENANT_ID": OTHER},
    }
    with django_db_blocker.unblock():
        for host, headers in ways.items():
            response = Client(HTTP_HOST=host, **headers).get("/api/v1/panels/999999/")
            assert response.status_code == 401  # logged as a 4xx by django.request
    lines = [(record.schema_name, record.domain_url) for record in caplog.records if record.name == "django.request"]
    assert lines == [(HOME, tenant_domain(HOME)), (OTHER, tenant_domain(OTHER)), (OTHER, settings.BASE_DOMAIN)]
    caplog.clear()


def test_an_uploaded_file_is_stored_under_its_tenant_and_not_served_on_another_host(world, django_db_blocker):
    """Documents sit under MEDIA_ROOT/tenants/<schema>/; no URL serves MEDIA_ROOT, and a
    logo is found only in the schema of the host that asks (the matrix checks /branding/)."""
    from rag.models import Document

    with django_db_blocker.unblock():
        with schema_context(HOME):
            stored = Document.objects.get(pk=1).file
            relative, home_stored = stored.name, stored.path
            with stored.open("rb") as content:
                assert MARK[HOME].encode() in content.read()
        with schema_context(OTHER):
            other_stored = Document.objects.get(pk=1).file.path
    home_path = str(world["media"] / "tenants" / HOME)
    assert home_stored.startswith(home_path) and not other_stored.startswith(home_path), (home_stored, other_stored)
    with django_db_blocker.unblock():
        for host in (tenant_domain(HOME), tenant_domain(OTHER), settings.BASE_DOMAIN):
            for path in (f"{settings.MEDIA_URL}tenants/{HOME}/{relative}", f"{settings.MEDIA_URL}{relative}"):
                client = Client(HTTP_HOST=host)
                client.cookies[settings.SESSION_COOKIE_NAME] = world[HOME]["sessions"]["admin"]
                response = client.get(path)
                assert response.status_code in (302, 404), (host, path, response.status_code)
                assert MARK[HOME].encode() not in answer_bytes(response)
        logo = f"/branding/{world[HOME]['logo']}"
        assert Client(HTTP_HOST=tenant_domain(HOME)).get(logo).status_code == 200
        assert Client(HTTP_HOST=tenant_domain(OTHER)).get(logo).status_code == 404
