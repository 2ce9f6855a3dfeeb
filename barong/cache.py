"""Django's Redis cache backend, with one Redis client per connection pool.

Django's ``RedisCacheClient.get_client`` builds a new ``redis.Redis`` for every cache
operation; its constructor (a case-insensitive table of ~170 response callbacks) costs
more CPU than the loopback round trip itself, and the authz endpoint, sessions and rate
limits call the cache on every request. A ``redis.Redis`` is thread-safe and holds no
connection of its own (the pool does, and resets itself after a fork), so one per pool
is enough. ``get_many_and_add`` pipelines a read and an atomic "add" (the authz replay
check) into one round trip.

``version_stamp``/``version_bump`` are the protocol of the in-process tables (permission
rules, restrictions): a worker rebuilds its copy when the shared stamp differs.
"""

import uuid

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient


class PooledRedisCacheClient(RedisCacheClient):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, object] = {}

    def get_client(self, key=None, *, write=False):
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            client = self._client(connection_pool=self._get_connection_pool(write))
            self._clients[index] = client
        return client


class RedisCache(DjangoRedisCache):
    """``django.core.cache.backends.redis.RedisCache`` reusing its Redis clients."""

    def __init__(self, server, params) -> None:
        super().__init__(server, params)
        self._class = PooledRedisCacheClient

    def get_many_and_add(
        self, keys: list[str], add_key: str, value: object, timeout: int
    ) -> tuple[dict, bool]:
        """``get_many(keys)`` and ``add(add_key, value, timeout)`` in one round trip."""
        client = self._cache.get_client(write=True)
        pipe = client.pipeline(transaction=False)
        pipe.mget([self.make_and_validate_key(key) for key in keys])
        pipe.set(
            self.make_and_validate_key(add_key),
            self._cache._serializer.dumps(value),
            ex=timeout,
            nx=True,
        )
        values, added = pipe.execute()
        loads = self._cache._serializer.loads
        found = {key: loads(raw) for key, raw in zip(keys, values, strict=True) if raw is not None}
        return found, bool(added)


def get_many_and_add(keys: list[str], add_key: str, value: object, timeout: int):
    """One round trip where the backend can (Redis), two otherwise; returns (found, added)."""
    from django.core.cache import cache

    combined = getattr(cache, "get_many_and_add", None)
    if combined is not None:
        return combined(keys, add_key, value, timeout)
    return cache.get_many(keys), cache.add(add_key, value, timeout)


def version_stamp(key: str) -> str:
    """The shared stamp under ``key``; a missing one (cache flushed, first start) is created."""
    from django.core.cache import cache

    version = cache.get(key)
    if version is None:  # any new stamp makes every worker reload
        version = uuid.uuid4().hex
        if not cache.add(key, version, None):
            version = cache.get(key) or version
    return version


def version_bump(key: str) -> None:
    """A new stamp under ``key``: every worker rebuilds its copy on its next use."""
    from django.core.cache import cache

    cache.set(key, uuid.uuid4().hex, None)
