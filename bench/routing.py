"""Cost of tenant routing: the same authenticated API view (`GET /api/v1/tenant/`) served
over real HTTP (a WSGI server on 127.0.0.1, one thread like a sync worker), routed by host
and with the tenant fixed in advance, request by request in turn.

The routed side is the application `make run` serves (config/wsgi.py: Django's handler,
the routing middleware reading the host -> tenant answer from the Redis cache). The
unrouted side is Django's handler without the routing middleware, given a tenant loaded
once. Both run on the same server thread, so they share one database connection and
differ in routing only.

    python bench/routing.py [--requests 2000]

Goal (issue 12): routed / unrouted median latency <= 1.15. Prints figures; asserts nothing.
"""

import argparse
import copy
import http.client
import os
import threading
import time
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

os.environ.setdefault("DB_CONN_MAX_AGE", "60")  # persistent connections, as in production
import _django  # noqa: E402


class QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass


def fixed_tenant_middleware(tenant):
    """Stands in for routing: the tenant is known in advance. Each request gets its own
    copy, without the LLM key, as routing hands it on (the key is read from the database
    when the view asks for it: it is never cached), so the variants differ in routing only."""
    from django.db import connection

    def middleware(get_response):
        def handle(request):
            request.tenant = copy.copy(tenant)
            connection.set_tenant(request.tenant)
            request.urlconf = "config.urls_tenant"
            return get_response(request)

        return handle

    return middleware


def serve(app):
    # One thread per server, like a sync worker: its database connection persists.
    server = make_server("127.0.0.1", 0, app, server_class=WSGIServer, handler_class=QuietHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


VARIANT_HEADER = "HTTP_X_BENCH_VARIANT"


def one_server_for_both(routed_app, unrouted_app):
    """Both variants behind one server thread: the same database connection and backend,
    so they differ in routing only. A request header picks the variant."""

    def app(environ, start_response):
        chosen = unrouted_app if environ.pop(VARIANT_HEADER, "") == "unrouted" else routed_app
        return chosen(environ, start_response)

    return app


def timed_requests(port: int, host: str, token: str, count: int, variant: str) -> list[float]:
    timings = []
    for _ in range(count):
        started = time.perf_counter()
        conn = http.client.HTTPConnection("127.0.0.1", port)
        conn.request("GET", "/api/v1/tenant/",
                     headers={"Host": host, "Authorization": f"Token {token}", "X-Bench-Variant": variant})
        response = conn.getresponse()
        response.read()
        conn.close()
        assert response.status == 200, response.status
        timings.append(time.perf_counter() - started)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()
    _django.setup()

    from django.conf import settings
    from django.core.handlers.wsgi import WSGIHandler
    from django.test import override_settings

    from tenants.models import Tenant

    tenant, _, token = _django.bench_tenant("bench_routing")
    tenant = Tenant.objects.defer("llm_api_key").get(pk=tenant.pk)

    from config.wsgi import application as routed_app
    unrouted_middleware = [m for m in settings.MIDDLEWARE if m != "tenants.middleware.TenantRoutingMiddleware"]
    with override_settings(MIDDLEWARE=unrouted_middleware):
        unrouted_app = WSGIHandler()
    # Put the fixed-tenant step where routing was: first.
    unrouted_app._middleware_chain = fixed_tenant_middleware(tenant)(unrouted_app._middleware_chain)

    server = serve(one_server_for_both(routed_app, unrouted_app))
    host, port = "bench-routing.localhost", server.server_port
    timed_requests(port, host, token, 100, "routed")  # warm up both
    timed_requests(port, host, token, 100, "unrouted")

    routed_times, unrouted_times = [], []
    for _ in range(args.requests):  # alternating, request by request
        routed_times += timed_requests(port, host, token, 1, "routed")
        unrouted_times += timed_requests(port, host, token, 1, "unrouted")

    routed_median, unrouted_median = _django.median(routed_times), _django.median(unrouted_times)
    print(f"requests per variant:          {len(routed_times)}")
    print(f"routed   median / p95 (ms):    {routed_median * 1000:.2f} / {_django.percentile(routed_times, .95) * 1000:.2f}")
    print(f"unrouted median / p95 (ms):    {unrouted_median * 1000:.2f} / {_django.percentile(unrouted_times, .95) * 1000:.2f}")
    print(f"routed / unrouted ratio:       {routed_median / unrouted_median:.3f}  (goal <= 1.15)")
    # What routing adds is mostly one Redis round trip (the host -> tenant cache); on a VM
    # that costs far more than on bare metal, so print it next to the ratio.
    from django.core.cache import caches

    client = caches["routing"]._cache.get_client()
    round_trips = []
    for _ in range(2000):
        started = time.perf_counter()
        client.ping()
        round_trips.append(time.perf_counter() - started)
    print(f"one Redis round trip (median): {_django.median(round_trips) * 1e6:.0f} us")
    server.shutdown()


if __name__ == "__main__":
    main()
