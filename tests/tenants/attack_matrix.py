"""The cross-tenant attack matrix, as data: every route of the tenant URL conf (API and
pages) × every way into a tenant, each with the status it must answer.

Routes come from config/urls_tenant.py at collection time, so a new endpoint is in the
matrix the day it is added. What differs per route is declared here once: which actions
are for tenant admins, which read another user's object, which bodies a write needs.
The ways in are the same for every route, and so (for routes behind TenantAPIView) are
their refusals: routing and authentication refuse before any view runs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.urls import URLPattern, URLResolver, get_resolver

TENANT_URLCONF = "config.urls_tenant"
HOME, OTHER = "amxacme", "amxglobex"  # the tenants the module builds (fresh: their ids collide)
PASSWORD = {HOME: "acme-pass-1", OTHER: "globex-pass-1"}
# A string in each tenant's private data (panel questions, documents, templates, private
# experts): the other tenant's must never be in a response, body or headers.
MARK = {HOME: "ACMEMARK7f3a9c", OTHER: "GLOBEXMARK5b1e2d"}
UNKNOWN_HOST = "nowhere-amx"  # + "." + BASE_DOMAIN: no tenant is served there

# Only the tenant has these; the admin's own status per (method, route) lives in CONTROL.
HEALTH = "/api/v1/health/"
PUBLIC_PAGES = {"/accounts/login/", "/branding/{name}"}  # answer signed-out visitors (the sign-in page shows the logo)


@dataclass(frozen=True)
class Route:
    path: str  # with {param} placeholders, as in the OpenAPI schema
    method: str
    kind: str  # "api" or "page"

    @property
    def params(self) -> list[str]:
        return re.findall(r"{(\w+)}", self.path)

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def _page_methods(callback) -> tuple[str, ...]:
    """The methods a page answers: a class view's handlers, else the list a
    require_http_methods decorator closed over (GET and POST when there is none)."""
    view_class = getattr(callback, "view_class", None)
    if view_class is not None:
        allowed = view_class.http_method_names
        return tuple(m.upper() for m in ("get", "post") if hasattr(view_class, m) and m in allowed)
    seen, stack = set(), [callback]
    while stack:
        function = stack.pop()
        if id(function) in seen:
            continue
        seen.add(id(function))
        for cell in getattr(function, "__closure__", None) or ():
            try:
                value = cell.cell_contents
            except ValueError:
                continue
            if isinstance(value, list | tuple) and value and all(isinstance(v, str) and v.isupper() for v in value):
                return tuple(m for m in value if m in ("GET", "POST"))
            if callable(value):
                stack.append(value)
        if getattr(function, "__wrapped__", None) is not None:
            stack.append(function.__wrapped__)
    return ("GET", "POST")


def tenant_routes(urlconf: str = TENANT_URLCONF) -> list[Route]:
    """Every API operation and every page method of the URL conf (the admin site aside:
    django's own, tested by tests/tenants/test_admin_sites.py)."""
    found: list[Route] = []

    def walk(patterns, prefix):
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                if not route.startswith("admin/"):
                    walk(pattern.url_patterns, route)
                continue
            if not isinstance(pattern, URLPattern):
                continue
            path = "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route)
            view = getattr(pattern.callback, "cls", None)
            if route.startswith("api/"):
                methods = [m.upper() for m in ("get", "post", "put", "patch", "delete") if hasattr(view, m)]
                found.extend(Route(path, method, "api") for method in methods)
            else:
                found.extend(Route(path, method, "page") for method in _page_methods(pattern.callback))

    walk(get_resolver(urlconf).url_patterns, "")
    return found


# --- What differs per route ---------------------------------------------------------

# Tenant admins only: a member gets 403.
ADMIN_ONLY = {
    ("PUT", "/api/v1/agent-preferences/"),
    ("POST", "/api/v1/custom-agents/"),
    ("PUT", "/api/v1/custom-agents/{slug}/"),
    ("DELETE", "/api/v1/custom-agents/{slug}/"),
    ("GET", "/api/v1/usage/statements/"),
    ("GET", "/api/v1/usage/statements/{month}.csv"),
    ("GET", "/api/v1/usage/statements/{month}.pdf"),
    ("GET", "/api/v1/analytics/"),
    ("GET", "/api/v1/audit/"),
    ("GET", "/settings/audit/"),
    *((method, path) for path in (
        "/settings/", "/settings/branding/", "/settings/defaults/", "/settings/users/", "/settings/tokens/",
        "/experts/private/new/", "/experts/private/{slug}/edit/", "/experts/private/{slug}/delete/")
      for method in ("GET", "POST")),
    ("POST", "/settings/branding/preview/"),
    ("POST", "/settings/users/{user_id}/role/"),
    ("POST", "/settings/users/{user_id}/active/"),
    ("GET", "/analytics/"),
}

# Another user's object (the admin made it): a member may read what the tenant shares but
# change only what they made (403); a panel is its owner's alone (404, as if it did not exist).
OWNER_ONLY = {
    ("DELETE", "/api/v1/documents/{document_id}/"): 403,
    ("PUT", "/api/v1/panel-templates/{template_id}/"): 403,
    ("DELETE", "/api/v1/panel-templates/{template_id}/"): 403,
    ("GET", "/api/v1/panels/{panel_id}/"): 404,
    ("POST", "/api/v1/panels/{panel_id}/cancel/"): 404,
    ("GET", "/api/v1/panels/{panel_id}/export.md"): 404,
    ("GET", "/panels/{panel_id}/"): 404,
    ("POST", "/panels/{panel_id}/cancel/"): 404,
    ("POST", "/documents/{document_id}/delete/"): 403,
}

# What the tenant's own admin gets (the control); any other route: GET 200, writes 2xx.
CONTROL = {
    ("POST", "/api/v1/panels/"): 201,
    ("POST", "/api/v1/documents/"): 202,  # accepted: processed by the worker
    ("GET", "/accounts/login/"): 302,  # a signed-in visitor goes home
    ("POST", "/accounts/login/"): 302,
    ("POST", "/api/v1/panel-templates/"): 201,
    ("POST", "/api/v1/custom-agents/"): 201,
    ("DELETE", "/api/v1/documents/{document_id}/"): 204,
    ("DELETE", "/api/v1/panel-templates/{template_id}/"): 204,
    ("DELETE", "/api/v1/custom-agents/{slug}/"): 204,
    ("POST", "/api/v1/panels/{panel_id}/cancel/"): 409,  # panel 1 has completed
    ("POST", "/api/v1/panels/{panel_id}/human-input/"): 409,  # and is not waiting for a human
}
WRITES = {"POST", "PUT", "PATCH", "DELETE"}


def control_status(route: Route) -> int | set[int]:
    if (route.method, route.path) in CONTROL:
        return CONTROL[(route.method, route.path)]
    if route.kind == "page" and route.method == "POST":
        # A form post answers with the page and its errors, or redirects after the change.
        return {200, 302, 400, 409}
    if route.method == "DELETE":
        return {200, 204}  # 200 when it answers with what is left (e.g. an unfavourited template)
    return 200 if route.method == "GET" else {200, 201, 204}


QUERY = {
    "/api/v1/search/": "?q=pathway",
    "/api/v1/agents/recommend/": "?q=device%20pathway&panel_type=structured",
    "/documents/search/": "?q=pathway",
    "/panels/new/recommended/": "?query=device%20pathway",
    "/panels/new/estimate/": "?query=device%20pathway&panel_type=structured",
}
