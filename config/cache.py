"""Django's Redis cache (redis-py), with one client per Redis server per process.

Django's RedisCacheClient builds a new `redis.Redis` for every operation; with redis-py 8
that costs about 0.2 ms, more than the round trip itself, and routing reads this cache
on every request (tenants/selectors.py). Under ASGI it is worse: Django makes a new cache
object for every request, each with its own connection pool, so every request opened a
new Redis connection. A client is thread-safe and its pool reconnects after a fork, so
one client per server URL is kept for the whole process. Everything else is Django's.
"""

import threading

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient

_CLIENTS: dict[str, object] = {}  # server URL -> redis.Redis, shared by every cache object
_CLIENTS_LOCK = threading.Lock()


class _OneClientPerServer(RedisCacheClient):
    def get_client(self, key=None, *, write=False):
        server = self._servers[self._get_connection_pool_index(write)]
        client = _CLIENTS.get(server)
        if client is None:
            with _CLIENTS_LOCK:
                client = _CLIENTS.get(server)
                if client is None:
                    pool = self._pool_class.from_url(server, **self._pool_options)
                    client = _CLIENTS[server] = self._client(connection_pool=pool)
        return client


class RedisCache(DjangoRedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = _OneClientPerServer
