"""One HTTP connection pool per provider SDK and process, shared by every provider client.

An SDK client that builds its own HTTP client costs ~21 ms (it loads the CA bundle) and
starts with no open connection; a panel creates one per run. Shared, the pool keeps
connections alive between calls. It holds no tenant data: the API key and base URL stay
on each SDK client and travel with each request. A forked process builds its own.
"""

from __future__ import annotations

import os
import threading

_pools: dict[tuple[str, int], object] = {}
_lock = threading.Lock()


def shared_http_client(sdk):
    """The process's HTTP client for `sdk` (the `openai` or `anthropic` module), with that
    SDK's own defaults for timeouts, limits and redirects."""
    key = (sdk.__name__, os.getpid())
    client = _pools.get(key)
    if client is None:
        with _lock:
            client = _pools.get(key)
            if client is None:
                client = _pools[key] = sdk.DefaultHttpxClient()
    return client
