"""The real application on a real port, for tests that drive it from outside (a browser,
a generated API client, an API fuzzer): config.wsgi's application on a threaded WSGI
server on 127.0.0.1, with tenant routing, against the test database.

Its threads have their own database connections, so a test sees only committed data
(a package's `committed` fixture unblocks the database for the whole package)."""

from __future__ import annotations

import threading

from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler

from tests.conftest import tenant_domain


class QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass


class Server(ThreadedWSGIServer):
    # Not daemon threads: server_close() waits for the request threads, each closing its
    # database connection as it ends (the test database is dropped after the session).
    daemon_threads = False


class LiveServer:
    """config.wsgi's application on a threaded server (one thread per connection, as the
    live page's event stream holds one open); each thread has its own database
    connection, closed when its request ends."""

    def __init__(self):
        from config.wsgi import application

        self.httpd = Server(("127.0.0.1", 0), QuietHandler, allow_reuse_address=False)
        self.httpd.set_app(application)
        self.port = self.httpd.server_address[1]
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True, name="live-server")
        self._thread.start()

    @property
    def origin(self) -> str:
        """Where an HTTP client connects: Python's resolver does not know `*.localhost`,
        so clients other than a browser connect here and name the tenant in `Host`."""
        return f"http://127.0.0.1:{self.port}"

    def host(self, schema_name: str) -> str:
        """The `Host` header of a tenant's site on this server."""
        return f"{tenant_domain(schema_name)}:{self.port}"

    def url(self, schema_name: str, path: str = "/") -> str:
        return f"http://{self.host(schema_name)}{path}"

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
