"""The served OpenAPI schema is the API's whole contract, and stays so for every endpoint added
later: each operation under /api/v1/ has a named operation id, a documented response body
(a component, or the file or stream it sends), its request body, its query parameters with
their bounds, and the error responses a client can meet, all with the one Error component."""

import re
import sys
import types
from dataclasses import fields

import pytest
from django.core.management import call_command
from django.urls import URLPattern, URLResolver, get_resolver, include, path
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator
from rest_framework.response import Response

from tenants.api.base import TenantAPIView

OPERATION_IDS = {
    "panels_list", "panels_create", "panels_estimate", "panels_get", "panels_cancel", "panels_events", "panels_human_input",
    "panels_rate", "panels_export_markdown", "panels_export_pdf", "documents_upload", "documents_list",
    "documents_get", "documents_delete", "search", "agents_list", "agents_get", "agents_recommend",
    "agent_preferences_get", "agent_preferences_set", "tenant_get", "auth_token", "health",
    "usage_get", "usage_statements_list", "usage_statement_csv", "usage_statement_pdf",
    "panel_templates_list", "panel_templates_create", "panel_templates_get", "panel_templates_replace",
    "panel_templates_delete", "panel_templates_favourite", "panel_templates_unfavourite",
    "custom_agents_list", "custom_agents_create", "custom_agents_get", "custom_agents_replace", "custom_agents_delete",
    "analytics_get", "audit_list",
}
BODYLESS_WRITES = {"panels_cancel", "panel_templates_favourite"}  # POSTs that take no request body
COMPONENTS = {
    "Tenant", "Agent", "AgentDetail", "AgentRecommendation", "AgentRecommendations", "AgentPreferences", "Document",
    "SearchHit", "SearchResults", "Panel", "PanelSummary", "Member", "Round", "Contribution", "Citation", "Consensus",
    "Recommendation", "Usage", "PanelEvent", "PanelEvents", "Rating", "Token", "Health", "Error",
    "PaginatedAgentList", "PaginatedDocumentList", "PaginatedPanelSummaryList",
    "TokenRequest", "PanelCreateRequest", "HumanInputRequest", "RatingRequest", "AgentPreferencesRequest",
    "DocumentUploadRequest",
    "UsageReport", "Statement", "StatementList",
    "PanelTemplate", "PanelTemplateInputRequest", "UnavailableExpert",
    "PaginatedPanelTemplateList",
    "CustomAgent", "CustomAgentInputRequest", "PaginatedCustomAgentList", "Analytics",
    "AuditEvent", "PaginatedAuditEventList",
}
FILE_MEDIA_TYPES = {"application/pdf", "text/markdown", "text/event-stream", "text/csv"}
ERROR_REF = "#/components/schemas/Error"
OTHER_ERROR_BODIES = {("health", "503"): "#/components/schemas/Health"}  # the health report says what is down
METHODS = ("get", "post", "put", "patch", "delete")


def api_endpoints(urlconf) -> list[tuple[str, str, type | None]]:
    """(OpenAPI path, method, view class) for every route under api/v1/ of the urlconf; a
    route that is not a DRF view has no class (and no place in the schema)."""
    found = []

    def walk(patterns, prefix):
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route)
            elif isinstance(pattern, URLPattern) and route.startswith("api/v1/"):
                view = getattr(pattern.callback, "cls", None)
                openapi_path = "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route)
                methods = [m for m in METHODS if view is not None and hasattr(view, m)] or ["?"]
                found.extend((openapi_path, method, view) for method in methods)

    walk(get_resolver(urlconf).url_patterns, "")
    return found


def generate(urlconf) -> tuple[dict, bool]:
    """The schema drf-spectacular builds for the urlconf, and whether it warned."""
    GENERATOR_STATS.reset()
    with GENERATOR_STATS.silence():
        schema = SchemaGenerator(urlconf=urlconf).get_schema(request=None, public=True)
    warned = bool(GENERATOR_STATS)
    GENERATOR_STATS.reset()
    return schema, warned


def _is_component_ref(schema: dict) -> bool:
    return set(schema) == {"$ref"} and schema["$ref"].startswith("#/components/schemas/")


def operation_problems(where: str, operation: dict, schema: dict) -> list[str]:
    problems = []
    operation_id = operation.get("operationId", "")
    if operation_id not in OPERATION_IDS:
        problems.append(f"{where}: operation id {operation_id!r} is not one of the named operations "
                        "(give the view @extend_schema(operation_id=...) and add it to OPERATION_IDS)")

    responses = operation.get("responses", {})
    successes = {code: r for code, r in responses.items() if code.startswith("2")}
    if not successes:
        problems.append(f"{where}: no success response")
    for code, response in successes.items():
        content = response.get("content", {})
        if code == "204":
            continue
        if not content:
            problems.append(f"{where}: the {code} response has no documented body")
        for media_type, body in content.items():
            documented = _is_component_ref(body.get("schema", {})) or (
                media_type in FILE_MEDIA_TYPES and body.get("schema", {}).get("type") == "string")
            if not documented:
                problems.append(f"{where}: the {code} {media_type} body is not a named component (or a file/stream)")

    method = where.split()[0]
    body = operation.get("requestBody")
    if method in ("POST", "PUT", "PATCH") and operation_id not in BODYLESS_WRITES:
        if not body:
            problems.append(f"{where}: takes no documented request body")
        else:
            for media_type, content in body["content"].items():
                if not _is_component_ref(content.get("schema", {})):
                    problems.append(f"{where}: the {media_type} request body is not a named component")

    errors = {code: r for code, r in responses.items() if code[0] in "45"}
    for code, response in errors.items():
        content = response.get("content", {})
        expected = {"$ref": OTHER_ERROR_BODIES.get((operation_id, code), ERROR_REF)}
        if set(content) != {"application/json"} or content["application/json"].get("schema") != expected:
            problems.append(f"{where}: the {code} response is not the Error component in application/json")
    if code_needed := _errors_needed(operation, schema) - set(errors):
        problems.append(f"{where}: undocumented error responses {sorted(code_needed)}")
    if "429" in errors and "Retry-After" not in errors["429"].get("headers", {}):
        problems.append(f"{where}: its 429 response does not document Retry-After")

    for parameter in operation.get("parameters", []):
        parameter = _resolve(parameter, schema)
        if parameter["in"] == "query":
            problems += [f"{where}: query parameter {parameter['name']!r} {p}" for p in _bound_problems(parameter)]
    return problems


def _errors_needed(operation: dict, schema: dict) -> set[str]:
    needed = {"400"} if operation.get("parameters") or operation.get("requestBody") else set()
    tenant_scoped = any(_resolve(p, schema)["name"] == "X-Tenant-ID" for p in operation.get("parameters", []))
    if tenant_scoped:  # 429: every tenant operation is rate-limited (tenants/api/throttling.py)
        needed |= {"400", "403", "404", "429"}
    if any("tokenAuth" in requirement for requirement in operation.get("security", [])):
        needed.add("401")
    if operation.get("requestBody"):
        needed.add("415")
    return needed


def _resolve(parameter: dict, schema: dict) -> dict:
    if "$ref" in parameter:
        return schema["components"]["parameters"][parameter["$ref"].rsplit("/", 1)[1]]
    return parameter


def _bound_problems(parameter: dict) -> list[str]:
    value = parameter.get("schema", {})
    if value.get("type") == "array":
        value = value.get("items", {})
    if "type" not in value and "$ref" not in value and "enum" not in value:
        return ["has no type"]
    if value.get("type") == "integer" and "minimum" not in value:
        return ["has no lower bound"]
    if value.get("type") == "string" and not ({"maxLength", "enum", "pattern"} & set(value)) and "$ref" not in value:
        return ["has no length limit or choices"]
    return []


def contract_problems(urlconf) -> list[str]:
    """Everything that keeps the urlconf's API from being fully described by its schema."""
    schema, warned = generate(urlconf)
    warning = ("drf-spectacular warned while generating the schema "
               "(run manage.py spectacular --validate --fail-on-warn to see why)")
    problems = [warning] if warned else []
    operations = schema.get("paths", {})
    for openapi_path, method, view in api_endpoints(urlconf):
        where = f"{method.upper()} {openapi_path}"
        if view is None:
            problems.append(f"{where}: not a DRF view, so it is not in the schema")
        elif method not in operations.get(openapi_path, {}):
            problems.append(f"{where}: missing from the schema")
        else:
            problems += operation_problems(where, operations[openapi_path][method], schema)
    ids = [op.get("operationId") for item in operations.values() for op in item.values()]
    problems += [f"operation id {i!r} is used {ids.count(i)} times" for i in sorted(set(ids)) if ids.count(i) > 1]
    return problems


@pytest.fixture(scope="module")
def schema():
    return generate("config.urls_tenant")[0]


def test_every_api_endpoint_is_fully_described():
    assert contract_problems("config.urls_tenant") == []


def test_the_schema_names_every_operation_and_model(schema):
    ids = {op["operationId"] for item in schema["paths"].values() for op in item.values()}
    assert ids == OPERATION_IDS
    assert COMPONENTS <= set(schema["components"]["schemas"])


def test_spectacular_validates_the_schema_without_warnings(tmp_path):
    # Raises on a warning (--fail-on-warn) or on a schema that breaks the OpenAPI 3 specification.
    call_command("spectacular", "--validate", "--fail-on-warn", "--urlconf", "config.urls_tenant",
                 "--file", str(tmp_path / "schema.yaml"))
    assert (tmp_path / "schema.yaml").read_text().startswith("openapi: 3")


class UndocumentedView(TenantAPIView):
    def get(self, request):
        return Response({"surprise": True})

    def post(self, request):
        return Response({"surprise": True}, status=201)


def _urlconf_with(extra) -> types.ModuleType:
    from config import urls_tenant

    module = types.ModuleType("crafted_urls_for_schema_test")
    module.urlpatterns = [*urls_tenant.urlpatterns, path("api/v1/", include(extra))]
    sys.modules[module.__name__] = module
    return module


def test_an_endpoint_added_without_its_schema_is_caught():
    crafted = _urlconf_with([path("surprise/", UndocumentedView.as_view())])
    try:
        problems = contract_problems(crafted)
    finally:
        del sys.modules[crafted.__name__]
    about_it = [p for p in problems if "/api/v1/surprise/" in p]
    assert any("GET /api/v1/surprise/: operation id" in p for p in about_it)
    assert any("GET /api/v1/surprise/: the 200 response has no documented body" in p for p in about_it)
    assert any("POST /api/v1/surprise/: takes no documented request body" in p for p in about_it)
    assert any("POST /api/v1/surprise/: undocumented error responses" in p for p in about_it)
    assert problems[0].startswith("drf-spectacular warned")
    assert [p for p in problems if "surprise" not in p and "warned" not in p] == []  # the rest stays clean


def test_a_plain_django_view_under_the_api_is_caught():
    crafted = _urlconf_with([path("plain/", lambda request: None)])
    try:
        problems = contract_problems(crafted)
    finally:
        del sys.modules[crafted.__name__]
    assert problems == ["? /api/v1/plain/: not a DRF view, so it is not in the schema"]


def test_tenant_operations_share_one_described_tenant_header(schema):
    header = schema["components"]["parameters"]["TenantHeader"]
    assert header["name"] == "X-Tenant-ID" and header["in"] == "header" and not header.get("required")
    for openapi_path, item in schema["paths"].items():
        for method, operation in item.items():
            refs = [p for p in operation.get("parameters", []) if p.get("$ref") == "#/components/parameters/TenantHeader"]
            inline = [p for p in operation.get("parameters", []) if p.get("name") == "X-Tenant-ID"]
            assert not inline
            assert len(refs) == (0 if operation["operationId"] == "health" else 1), (method, openapi_path)


def test_both_authentication_schemes_are_described(schema):
    schemes = schema["components"]["securitySchemes"]
    assert schemes["tokenAuth"] == {"type": "apiKey", "in": "header", "name": "Authorization",
                                    "description": 'Token-based authentication with required prefix "Token"'}
    assert schemes["cookieAuth"]["in"] == "cookie"
    panels_get = schema["paths"]["/api/v1/panels/{panel_id}/"]["get"]
    assert {"tokenAuth": []} in panels_get["security"] and {"cookieAuth": []} in panels_get["security"]
    assert "security" not in schema["paths"]["/api/v1/auth/token/"]["post"]  # no credentials needed to get one


def test_exports_and_the_event_stream_are_typed_as_what_they_send(schema):
    def ok(openapi_path):
        return schema["paths"][openapi_path]["get"]["responses"]["200"]["content"]

    assert ok("/api/v1/panels/{panel_id}/export.pdf") == {
        "application/pdf": {"schema": {"type": "string", "format": "binary"}}}
    assert ok("/api/v1/panels/{panel_id}/export.md") == {"text/markdown": {"schema": {"type": "string"}}}
    events = ok("/api/v1/panels/{panel_id}/events/")
    assert events["application/json"]["schema"] == {"$ref": "#/components/schemas/PanelEvents"}
    assert events["text/event-stream"]["schema"] == {"type": "string"}


def test_request_bodies_carry_their_limits(schema):
    components = schema["components"]["schemas"]
    create = components["PanelCreateRequest"]
    assert "required" not in create  # query and panel_type are required without `template` (the view says so)
    estimate = schema["paths"]["/api/v1/panels/estimate/"]["post"]["requestBody"]["content"]["application/json"]
    assert estimate["schema"] == {"$ref": "#/components/schemas/PanelCreateRequest"}  # the same body as creating
    assert (create["properties"]["query"]["minLength"], create["properties"]["query"]["maxLength"]) == (10, 5000)
    assert create["properties"]["panel_type"] == {"$ref": "#/components/schemas/PanelTypeEnum"}
    assert components["PanelTypeEnum"]["enum"] == ["structured", "open", "socratic", "adversarial", "delphi", "hybrid"]
    rating = components["RatingRequest"]["properties"]["score"]
    assert (rating["minimum"], rating["maximum"]) == (1, 5)
    upload = schema["paths"]["/api/v1/documents/"]["post"]["requestBody"]["content"]
    assert list(upload) == ["multipart/form-data"]
    assert components["DocumentUploadRequest"]["properties"]["file"]["format"] == "binary"
    assert components["DocumentUploadRequest"]["required"] == ["file"]


def test_query_parameters_carry_their_bounds(schema):
    def parameters(openapi_path):
        return {p["name"]: p for p in schema["paths"][openapi_path]["get"].get("parameters", []) if "name" in p}

    recommend = parameters("/api/v1/agents/recommend/")
    assert recommend["q"]["required"] and recommend["q"]["schema"]["minLength"] == 3
    assert (recommend["k"]["schema"]["minimum"], recommend["k"]["schema"]["maximum"]) == (1, 12)
    search = parameters("/api/v1/search/")
    assert search["document"]["schema"] == {"type": "array", "items": {"type": "integer", "minimum": 1}}
    listing = parameters("/api/v1/agents/")
    assert listing["page"]["schema"]["minimum"] == 1 and listing["page_size"]["schema"]["minimum"] == 1
    assert listing["tier"]["schema"]["maximum"] == 3


def test_the_tenant_component_lists_every_configuration_setting(schema):
    from tenants.configuration import SECTIONS

    components = schema["components"]["schemas"]
    tenant = components["Tenant"]["properties"]
    for section, (dataclass, _) in SECTIONS.items():
        component = components[tenant[section]["$ref"].rsplit("/", 1)[1]]
        documented = set(component["properties"]) - ({"api_key"} if section == "llm" else set())
        assert documented == {f.name for f in fields(dataclass)}, section


@pytest.mark.django_db
def test_the_platform_host_serves_this_schema_and_swagger_ui(client, schema):
    served = client.get("/api/v1/schema/?format=json", HTTP_HOST="localhost").json()
    assert {op["operationId"] for item in served["paths"].values() for op in item.values()} == OPERATION_IDS
    assert served["components"]["schemas"].keys() == schema["components"]["schemas"].keys()
    docs = client.get("/api/v1/docs/", HTTP_HOST="localhost")
    assert docs.status_code == 200 and b"/api/v1/schema/" in docs.content


@pytest.mark.parametrize("text", [
    "What now?", "  What now? ", "What now?!", " What now?! ", "\t\x1f" + "x" * 9, "\x85" + "x" * 9 + "\x1d",
    "\u3000" + "x" * 10, "x" * 5000,
])
def test_a_text_fields_pattern_accepts_what_its_serializer_accepts_once_trimmed(schema, text):
    from panels.api.views import PanelListView

    pattern = schema["components"]["schemas"]["PanelCreateRequest"]["properties"]["query"]["pattern"]
    accepted = PanelListView.InputSerializer(data={"query": text, "panel_type": "open"}).is_valid()
    assert accepted == bool(re.search(pattern, text)) == (len(text.strip()) >= 10)


@pytest.mark.django_db
@pytest.mark.parametrize("url", [
    "/api/v1/documents/?status=", "/api/v1/panels/?panel_type=", "/api/v1/agents/?tier=", "/api/v1/agents/?q=",
    "/api/v1/agents/?page_size=", "/api/v1/agents/?page=0", "/api/v1/agents/recommend/?q=Which+pathway&k=",
    "/api/v1/search/?q=pathway&k=",
])
def test_an_empty_or_out_of_bounds_query_value_is_refused_as_the_schema_says(alpha_api, url):
    response = alpha_api.get(url)
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid", response.json()


@pytest.mark.django_db
def test_the_event_cursor_is_checked_in_the_query_and_in_last_event_id(catalog, alpha, alpha_user, alpha_api):
    from tests.factories import make_panel

    panel = make_panel(alpha, alpha_user)
    url = f"/api/v1/panels/{panel.pk}/events/"
    everything = alpha_api.get(url).json()
    assert everything["events"] and everything["last_seq"] == everything["events"][-1]["seq"]
    assert alpha_api.get(url, {"after": -1}, HTTP_LAST_EVENT_ID="0").status_code == 400
    assert alpha_api.get(url, HTTP_LAST_EVENT_ID=str(2**63)).status_code == 400
    assert alpha_api.get(url, HTTP_LAST_EVENT_ID="").status_code == 400
    resumed = alpha_api.get(url, {"after": 0}, HTTP_LAST_EVENT_ID=str(everything["last_seq"])).json()
    assert resumed["events"] == [] and resumed["last_seq"] == everything["last_seq"]  # the header wins


def test_the_patterns_spaces_are_the_ones_str_strip_removes():
    from config.api.schema import SPACE

    stripped = {chr(c) for c in range(0x110000) if chr(c).isspace()}
    described = {chr(c) for c in range(0x110000) if not 0xD800 <= c < 0xE000 and re.fullmatch(f"[{SPACE}]", chr(c))}
    assert described == stripped
