"""Django's Redis cache, with cheaper reads and reads sent ahead of need.

Routing reads this cache on every request (tenants/selectors.py), so its `get` is on
the hot path of every page and API call. Three costs are removed, nothing else changes:

- Django's RedisCacheClient builds a new `redis.Redis` object for every operation
  (~100 µs on these VMs). Clients are thread-safe and share their pool, so one is kept
  per pool.
- A `get` through redis-py's client checks a connection out of the pool (a lock, a
  non-blocking read to prove the socket holds no stale reply, metrics) and wraps the
  call in its retry machinery. After the process has sat idle for a moment, as a web
  worker does between requests, that costs ~100 µs more than the round trip itself
  (bench/routing.py). `get` therefore sends GET on a redis-py connection of its own,
  taken from a small free list. The connection is built from the pool's settings, so
  URL, TLS, credentials and timeouts are the same, and redis-py still speaks the
  protocol. Every other operation goes through the client as before.
- `get_soon` sends the GETs at once and reads the replies only when they are needed,
  so the round trip overlaps whatever the caller does meanwhile (the WSGI handler
  sends the routing reads before Django builds the request: config/wsgi.py).

A reading connection is used by one thread at a time (deque pop/append are atomic). It
goes back on the free list only after all its replies have been read; on any error it
is dropped, so a half-read reply can never answer a later read. A forked child never
uses its parent's connections.
"""

import os
from collections import deque

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient

# Idle reading connections kept per server; beyond that (after a burst of concurrent
# requests, e.g. runserver's thread per request) they are closed rather than kept.
MAX_IDLE_READERS = 32


class _ReusingClient(RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}
        self._readers = {}  # connection pool index -> deque of idle reading connections
        self._readers_pid = os.getpid()

    def get_client(self, key=None, *, write=False):
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            client = self._clients[index] = self._client(connection_pool=self._get_connection_pool(write))
        return client

    def get(self, key, default):
        value = self._receive(self._send([key]))[0]
        return default if value is None else self._serializer.loads(value)

    def _send(self, keys: list[str], *, fresh: bool = False) -> "_SentGets":
        """Send GET for each key on a reading connection; the replies stay unread."""
        index = self._get_connection_pool_index(False)
        pool = self._pools.get(index)
        if pool is None:
            pool = self._pools[index] = self._pool_class.from_url(self._servers[index], **self._pool_options)
        if self._readers_pid != os.getpid():
            # A forked child: the parent's sockets are not ours to use. Dropping our copies
            # closes only them (redis-py shuts a socket down only in the process that opened it).
            self._readers, self._readers_pid = {}, os.getpid()
        idle = self._readers.get(index)
        if idle is None:
            idle = self._readers.setdefault(index, deque())
        connection = None
        if not fresh:
            try:
                connection = idle.pop()  # atomic: another thread may have taken the last one
            except IndexError:
                pass
        reused = connection is not None
        if connection is None:
            connection = pool.connection_class(**pool.connection_kwargs)
        try:
            connection.send_packed_command(connection.pack_commands([("GET", key) for key in keys]), check_health=False)
        except self._lib.ConnectionError:
            connection.disconnect()
            if reused:  # an idle connection the server had closed (restart, idle timeout)
                return self._send(keys, fresh=True)
            raise
        except BaseException:
            connection.disconnect()
            raise
        return _SentGets(keys, connection, reused, idle)

    def _receive(self, sent: "_SentGets") -> list:
        """Read the replies; the connection goes back to the free list only when all are read."""
        try:
            values = [sent.connection.read_response() for _ in sent.keys]
        except self._lib.ConnectionError:
            sent.connection.disconnect()
            if sent.reused:
                return self._receive(self._send(sent.keys, fresh=True))
            raise
        except BaseException:
            sent.connection.disconnect()
            raise
        if len(sent.idle) < MAX_IDLE_READERS:
            sent.idle.append(sent.connection)
        else:
            sent.connection.disconnect()
        return values


class _SentGets:
    __slots__ = ("keys", "connection", "reused", "idle")

    def __init__(self, keys, connection, reused, idle):
        self.keys, self.connection, self.reused, self.idle = keys, connection, reused, idle


class PendingGets:
    """GETs already sent; `values()` waits for the replies, once, and `close()` ends them.

    Reading is deferred, never skipped: `close()` reads replies nobody asked for, so the
    connection goes back clean.
    """

    def __init__(self, cache: "RedisCache", keys: list[str], version=None):
        self._cache = cache
        self.keys = frozenset(keys)
        # make_key, not make_and_validate_key: the routing reads are sent before Django has
        # validated the Host header they are built from, and memcached's key rules (what
        # validation warns about) do not apply to Redis.
        self._keys = {cache.make_key(key, version=version): key for key in keys}
        self._sent = cache._cache._send(list(self._keys))
        self._values = None

    def values(self) -> dict:
        """{key: value} for the keys that were found, like `cache.get_many`."""
        if self._values is None:
            sent, self._sent = self._sent, None
            if sent is None:  # closed unread, or the read failed: ask again
                sent = self._cache._cache._send(list(self._keys))
            replies = self._cache._cache._receive(sent)
            loads = self._cache._cache._serializer.loads
            self._values = {
                self._keys[full_key]: loads(reply)
                for full_key, reply in zip(sent.keys, replies)
                if reply is not None
            }
        return self._values

    def close(self) -> None:
        if self._sent is not None:
            sent, self._sent = self._sent, None
            try:
                self._cache._cache._receive(sent)
            except Exception:
                pass  # the connection is already dropped; nobody wanted these replies

    def __del__(self):
        # Abandoned without close(): drop the connection rather than read on a finalizer.
        if getattr(self, "_sent", None) is not None:
            self._sent.connection.disconnect()


class RedisCache(DjangoRedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = _ReusingClient

    def get_soon(self, keys: list[str], version=None) -> PendingGets:
        """Send GET for `keys` now; read the replies later with `.values()` (then `.close()`)."""
        return PendingGets(self, keys, version=version)
