"""Django's Redis cache backend, with one Redis client per connection pool.

Django's ``RedisCacheClient.get_client`` builds a new ``redis.Redis`` for every cache
operation; its constructor (a case-insensitive table of ~170 response callbacks) costs
more CPU than the loopback round trip itself, and the authz endpoint, sessions and rate
limits call the cache on every request. A ``redis.Redis`` is thread-safe and holds no
connection of its own (the pool does, and resets itself after a fork), so one per pool
is enough. ``get_many`` and ``get_many_and_add`` (one of them on every authz call) go
through ``barong.redis_local``: the same commands on a redis-py connection pinned to the
thread, without the pool's check-out and the client's per-command machinery.
``get_many_and_add`` pipelines a read and an atomic "add" (the authz replay check) into
one round trip, and ``batch`` runs a list of operations (rate-limit counters, a session
write with its index entry) in one round trip: login and sign-up each make two.

``version_stamp``/``version_bump`` are the protocol of the in-process tables (permission
rules, restrictions): a worker rebuilds its copy when the shared stamp differs.
"""

import pickle
import uuid
from typing import Any

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient

from barong.redis_local import PinnedClient


def _loads(raw: bytes):
    """Django's ``RedisSerializer.loads`` (an integer is stored as its digits, anything
    else pickled) without trying ``int()`` on a pickle first: a pickle of protocol 2 or
    later starts with the PROTO opcode, which no integer's digits do."""
    if raw[:1] == b"\x80":
        return pickle.loads(raw)  # noqa: S301 -- our own cache, written by Django's serializer
    try:
        return int(raw)
    except ValueError:
        return pickle.loads(raw)  # noqa: S301


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
        # The primary's pool: get_many_and_add writes, and a read must see the last write.
        self._wire = PinnedClient(lambda: self._cache._get_connection_pool(True), tracking=True)
        self._names: dict[str, bytes] = {}  # key → Redis name, for get_many_local

    def validate_key(self, key: str) -> None:
        """Nothing to check: Redis keys are binary-safe. Django's check warns about keys
        memcached would refuse, character by character, on every key of every call
        (about 2 µs per key; the authz endpoint reads four per request)."""

    def get_many(self, keys, version=None) -> dict:
        """Django's ``get_many`` (one ``MGET``) on the pinned connection."""
        keys = list(keys)
        if not keys:
            return {}
        names = [self.make_and_validate_key(key, version=version) for key in keys]
        (values,) = self._wire.execute([("MGET", *names)])
        return {key: _loads(raw) for key, raw in zip(keys, values, strict=True) if raw is not None}

    def get_many_local(self, keys: list[str]) -> tuple[dict, tuple] | None:
        """``get_many`` answered from copies kept current by Redis's invalidations
        (barong/redis_local.py), and a stamp of those copies for ``local_unchanged``;
        None when the connection cannot track."""
        names = self._names
        if len(names) > 10_000:
            names.clear()
        wanted = []
        for key in keys:
            name = names.get(key)
            if name is None:  # the same session, snapshot and stamps, call after call
                name = names[key] = self.make_and_validate_key(key).encode()
            wanted.append(name)
        read = self._wire.mget_local(wanted)
        if read is None:
            return None
        values, stamp = read
        found = {key: _loads(raw) for key, raw in zip(keys, values, strict=True) if raw is not None}
        return found, (self, wanted, stamp)

    @staticmethod
    def local_unchanged(stamp: tuple) -> bool:
        """Whether the copies a ``get_many_local`` stamped are still the ones it read
        (the stamp names its cache: no look-up of ``caches`` on the way)."""
        cache, names, copies = stamp
        return cache._wire.unchanged(names, copies)

    def get_many_and_add(
        self, keys: list[str], add_key: str, value: object, timeout: int
    ) -> tuple[dict, bool]:
        """``get_many(keys)`` and ``add(add_key, value, timeout)`` in one round trip."""
        names = [self.make_and_validate_key(key) for key in keys]
        stored = self._cache._serializer.dumps(value)
        values, added = self._wire.execute(
            [
                ("MGET", *names),
                ("SET", self.make_and_validate_key(add_key), stored, "EX", int(timeout), "NX"),
            ]
        )
        found = {key: _loads(raw) for key, raw in zip(keys, values, strict=True) if raw is not None}
        return found, added is not None

    def batch(self, ops: list[tuple]) -> list[Any]:
        """``batch_each``'s semantics in one pipelined round trip (see ``batch``)."""
        pipe = self._cache.get_client(write=True).pipeline(transaction=False)
        dumps = self._cache._serializer.dumps
        shape: list[int] = []  # how many replies each op produces; its result is the first
        for op in ops:
            kind, key = op[0], self.make_and_validate_key(op[1])
            if kind == "incr":  # create at 0 with the TTL only if missing, then count
                pipe.set(key, 0, ex=op[2], nx=True)
                pipe.incr(key)
                shape.append(-2)  # the result is the second reply
            elif kind == "set":
                _, _, value, timeout, mode = op
                pipe.set(key, dumps(value), ex=timeout, nx=mode == "nx", xx=mode == "xx")
                shape.append(1)
            elif kind == "swap":  # SET … GET: Redis 6.2 or later
                pipe.set(key, dumps(op[2]), ex=op[3], get=True)
                shape.append(1)
            elif kind == "delete":
                pipe.delete(key)
                shape.append(1)
            elif kind == "count":
                pipe.get(key)
                shape.append(1)
            elif kind == "push":
                _, _, member, keep, timeout = op
                pipe.lrem(key, 0, member)
                pipe.rpush(key, member)
                pipe.ltrim(key, -keep, -1)
                pipe.expire(key, timeout)
                shape.append(4)
            elif kind == "remove":
                pipe.lrem(key, 0, op[2])
                shape.append(1)
            elif kind == "members":
                pipe.lrange(key, 0, -1)
                shape.append(1)
            else:
                raise ValueError(f"unknown cache operation {kind!r}")
        replies = pipe.execute()
        results: list[Any] = []
        at = 0
        for op, size in zip(ops, shape, strict=True):
            if size == -2:
                results.append(int(replies[at + 1]))
                at += 2
                continue
            reply = replies[at]
            if op[0] == "set":
                reply = bool(reply)
            elif op[0] == "members":
                reply = [item.decode() for item in reply]
            elif op[0] == "count":
                reply = int(reply or 0)
            elif op[0] == "swap":
                reply = None if reply is None else _loads(reply)
            elif op[0] in ("delete", "push", "remove"):
                reply = None
            results.append(reply)
            at += size
        return results


def batch_each(cache, ops: list[tuple]) -> list[Any]:
    """Run ``ops`` one by one on any Django cache; the reference semantics of ``batch``.

    ``("incr", key, timeout)``: the count after adding one; a new counter lives ``timeout`` s.
    ``("set", key, value, timeout, mode)``: mode ``None``, ``"nx"`` (only if missing) or
    ``"xx"`` (only if present); True if written.
    ``("swap", key, value, timeout)``: write the value; the one it replaced, or None.
    ``("delete", key)``.
    ``("count", key)``: a counter's value (one ``incr`` writes), 0 when missing; nothing counted.
    ``("push", key, member, keep, timeout)``: append a string to a list (an equal one moves to
    the end), keep the last ``keep``, the list lives ``timeout`` s.
    ``("remove", key, member, timeout)``: drop a member (``timeout`` as for ``push``).
    ``("members", key)``: the list's strings.
    """
    results: list[Any] = []
    for op in ops:
        kind, key = op[0], op[1]
        if kind == "incr":
            if cache.add(key, 1, op[2]):
                results.append(1)
                continue
            try:
                results.append(cache.incr(key))
            except ValueError:  # expired between add and incr
                cache.add(key, 1, op[2])
                results.append(1)
        elif kind == "set":
            _, _, value, timeout, mode = op
            if mode == "nx":
                results.append(cache.add(key, value, timeout))
            elif mode == "xx" and not cache.has_key(key):
                results.append(False)
            else:
                cache.set(key, value, timeout)
                results.append(True)
        elif kind == "swap":
            results.append(cache.get(key))
            cache.set(key, op[2], op[3])
        elif kind == "delete":
            cache.delete(key)
            results.append(None)
        elif kind == "count":
            results.append(int(cache.get(key) or 0))
        elif kind == "push":
            _, _, member, keep, timeout = op
            members = [m for m in cache.get(key, []) if m != member]
            cache.set(key, [*members, member][-keep:], timeout)
            results.append(None)
        elif kind == "remove":
            members = cache.get(key)
            if members is not None and op[2] in members:
                cache.set(key, [m for m in members if m != op[2]], op[3])
            results.append(None)
        elif kind == "members":
            results.append(list(cache.get(key, [])))
        else:
            raise ValueError(f"unknown cache operation {kind!r}")
    return results


def batch(ops: list[tuple], *, using=None) -> list[Any]:
    """Cache operations in one round trip where the backend can (Redis), in turn otherwise.

    ``using``: a cache (default: the default cache). The operations and their results are
    listed in ``batch_each``. Lists are native Redis lists there and Python lists
    elsewhere, so a key written by ``push`` is read only with ``members``.
    """
    if using is None:
        from django.core.cache import cache as using
    run = getattr(using, "batch", None)
    if run is not None:
        return run(ops)
    return batch_each(using, ops)


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
