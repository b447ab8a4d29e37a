"""Django's Redis cache (redis-py), keeping one client per connection pool.

Django's RedisCacheClient builds a new `redis.Redis` for every operation; with redis-py 8
that costs about 0.2 ms, more than the round trip itself, and routing reads this cache
on every request (tenants/selectors.py). A client is thread-safe and shares its pool
(which reconnects after a fork), so one is kept per pool. Everything else is Django's.
"""

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient


class _OneClientPerPool(RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        index = self._get_connection_pool_index(write)
        if index not in self._clients:
            self._clients[index] = self._client(connection_pool=self._get_connection_pool(write))
        return self._clients[index]


class RedisCache(DjangoRedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = _OneClientPerPool
