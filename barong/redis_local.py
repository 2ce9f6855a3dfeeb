"""The authz reads on a pinned redis-py connection, and copies Redis keeps current.

The authz endpoint reads four keys per call (docs/BENCHMARKS.md). Through a pooled
``redis.Redis`` that is ~25 µs of CPU, through a pool check-out and check-in ~17 µs, on one
connection kept by the thread ~6 µs (redis-py with its hiredis parser, one process,
docs/BENCHMARKS.md "Round 7"). So ``barong.cache.RedisCache`` sends ``get_many``,
``get_many_and_add`` and the fast path's reads through ``PinnedClient``: a redis-py
``Connection`` of the cache pool's class and settings (the URL's host, TLS, AUTH,
database, HELLO, a Sentinel pool's master lookup), one per thread, a new one after a
fork. Commands are packed and replies parsed by redis-py; nothing here reads RESP.

A command that fails on a connection that had already served one is retried once on a
new connection (a Redis restart leaves every pinned connection dead, and the next
request must not pay for it); a timeout is not retried (Redis is there but stuck). A
``READONLY`` reply (the server was demoted by a Sentinel failover) drops the connection
too, so the next request asks the pool again and reaches the new master.

Copies: the gateway calls authz before every request with the same few keys (two
version stamps, a session, a user snapshot). Redis 6's client-side caching tracks the
keys a connection read (``CLIENT TRACKING ON OPTIN``, RESP3) and pushes an invalidation
on that connection as soon as one is written, expires or is evicted; redis-py's parser
hands each push to ``Pinned._pushed``, and every push that arrived is applied before a
copy is used again. ``MAX_AGE`` bounds every copy's life, a second line in case a push
were ever lost without the connection dropping. A copy is the value's bytes; each read
unpickles its own object. Only the authz front's fast path reads copies
(permissions/lean.py). Why not redis-py's own client-side cache: docs/architecture.md.
"""

import contextlib
import os
import threading
import time
import weakref

from redis import exceptions
from redis.connection import SSLConnection

MAX_AGE = 1.0  # seconds a copy may be used without being read again
MAX_KEYS = 10_000  # copies held per connection; past it, all are dropped at once
_PUSHED = object()  # what the push handler returns: a push, not a reply


class LocalCopies:
    """name → (value, until) for the keys one tracked connection read.

    ``generation`` counts the changes: every read stored, invalidation applied or clear.
    Copies read at one generation are the very same while it lasts (and each is current),
    which is what the fast path's answers remembered for a second rely on
    (permissions/lean.py)."""

    __slots__ = ("_copies", "generation")

    def __init__(self) -> None:
        self._copies: dict[bytes, tuple[bytes, float]] = {}
        self.generation = 0

    def current(self, names: list[bytes]) -> bool:
        """Whether every one of ``names`` has a copy that has not reached its age."""
        copies, now = self._copies, time.monotonic()
        for name in names:
            hit = copies.get(name)
            if hit is None or hit[1] < now:
                return False
        return True

    def get(self, name: bytes) -> bytes | None:
        hit = self._copies.get(name)
        if hit is None or hit[1] < time.monotonic():
            return None
        return hit[0]

    def put_many(self, names: list[bytes], values: list[bytes | None]) -> None:
        """Values just read (and tracked from that read on); a missing key holds nothing."""
        self.generation += 1
        copies = self._copies
        if len(copies) + len(names) > MAX_KEYS:
            copies.clear()
        until = time.monotonic() + MAX_AGE
        for name, value in zip(names, values, strict=True):
            if value is None:
                copies.pop(name, None)
            else:
                copies[name] = (value, until)

    def pushed(self, push: list) -> None:
        """An invalidation: ``[b"invalidate", [names]]``, or ``[b"invalidate", None]`` when
        the database was flushed. Any other push drops everything (nothing else is expected)."""
        self.generation += 1
        if len(push) == 2 and push[0] == b"invalidate" and isinstance(push[1], list):
            for name in push[1]:
                self._copies.pop(name, None)
        else:
            self._copies.clear()

    def clear(self) -> None:
        self.generation += 1
        self._copies.clear()

    def __len__(self) -> int:
        return len(self._copies)


class Pinned:
    """One redis-py connection, used by one thread only; with ``tracking`` on a RESP3
    connection, the keys ``mget_local`` reads are tracked and their copies live in ``local``."""

    def __init__(self, pool, tracking: bool = False) -> None:
        self.connection = pool.connection_class(**pool.connection_kwargs)
        self.connection.connect()  # the handshake: TLS, AUTH, SELECT, HELLO
        self.used = False
        self.local: LocalCopies | None = None
        # Copies need RESP3 (pushes on this connection) and a plain socket: TLS may hold
        # a push in its own buffer, out of sight of the poll that ``drain`` makes.
        if (
            tracking
            and str(self.connection.get_protocol()) == "3"
            and not isinstance(self.connection, SSLConnection)
        ):
            self.connection._parser.set_invalidation_push_handler(self._pushed)
            try:
                self.execute([("CLIENT", "TRACKING", "ON", "OPTIN")])
                self.local = LocalCopies()
            except exceptions.ResponseError:  # an old server, an ACL: no copies
                pass
            except Exception:
                self.close()
                raise
            self.used = False  # the set-up is not a served call (see ``PinnedClient._call``)

    def close(self) -> None:
        self.connection.disconnect()

    def _pushed(self, push: list) -> object:
        if self.local is not None:
            self.local.pushed(push)
        return _PUSHED

    def execute(self, commands: list[tuple]) -> list:
        """The replies of ``commands``, sent in one write; an error reply is raised once
        every reply is read, so the connection stays in step."""
        connection = self.connection
        if not connection.is_connected:  # redis-py would reconnect, untracked: never here
            raise exceptions.ConnectionError("the pinned connection was closed")
        pack = connection.pack_command  # one buffer, one write (``pack_commands`` may split)
        packed = b"".join([chunk for command in commands for chunk in pack(*command)])
        connection.send_packed_command([packed], check_health=False)
        results, error = [], None
        for _ in commands:
            try:
                results.append(connection.read_response())
            except exceptions.ResponseError as exc:
                error = error or exc
                results.append(None)
        self.used = True
        if error is not None:
            raise error
        return results

    def drain(self) -> None:
        """Apply every invalidation that arrived since the last call (no waiting)."""
        connection = self.connection
        if not connection.is_connected:
            raise exceptions.ConnectionError("the pinned connection was closed")
        while connection.can_read(timeout=0):
            if connection.read_response(push_request=True) is not _PUSHED:
                raise exceptions.ConnectionError("unexpected bytes after the replies")

    def mget_local(self, names: list[bytes]) -> tuple[list[bytes | None], tuple]:
        """``MGET names`` answered from the tracked copies when all are current, and a
        stamp for ``unchanged``: these copies (a new connection has others) and the
        generation the values belong to.

        All or nothing: when one is missing, all are read again, so that an answer never
        mixes a copy with values read after an invalidation of that copy had arrived.
        Pushes ahead of the reply are applied while it is read; those behind it, after
        the values are stored (and the generation taken), so a change made after the read
        drops them and moves the generation on.
        """
        self.drain()
        local = self.local
        values: list[bytes | None] = [local.get(name) for name in names]
        generation = local.generation
        if None in values:
            # Tracked from this read on: a change after it is pushed to this connection.
            _, values = self.execute([("CLIENT", "CACHING", "YES"), ("MGET", *names)])
            local.put_many(names, values)
            generation = local.generation
            self.drain()
        return values, (local, generation)

    def unchanged(self, names: list[bytes], stamp: tuple) -> bool:
        """Whether the copies of ``names`` are still those ``mget_local`` stamped (every
        invalidation that arrived applied first) and none has reached its age."""
        self.drain()
        local = self.local
        return local is stamp[0] and local.generation == stamp[1] and local.current(names)


class PinnedClient:
    """Commands on a connection of ``pool``'s kind, one per thread and process."""

    def __init__(self, pool_getter, *, tracking: bool = False) -> None:
        self._pool_getter = pool_getter
        self._tracking = tracking
        self._local = threading.local()
        # Forked (gunicorn's workers): the parent's sockets are not ours. Told once by the
        # fork rather than asked on every call (``os.getpid`` is a system call).
        client = weakref.ref(self)

        def forked() -> None:
            alive = client()
            if alive is not None:
                alive._local = threading.local()

        os.register_at_fork(after_in_child=forked)

    def _pinned(self) -> Pinned:
        pinned = getattr(self._local, "pinned", None)
        if pinned is None:
            try:
                pinned = Pinned(self._pool_getter(), tracking=self._tracking)
            except OSError as exc:  # refused, unreachable, timed out
                raise exceptions.ConnectionError(str(exc)) from exc
            self._local.pinned = pinned
        return pinned

    def _drop(self, pinned: Pinned) -> None:
        self._local.pinned = None
        with contextlib.suppress(Exception):  # already broken: nothing more to release
            pinned.close()

    def _call(self, work):
        """``work(pinned)`` on this thread's connection, retried once on a new one when a
        connection that had served before turns out dead (a Redis restart)."""
        pinned = self._pinned()
        try:
            return work(pinned)
        except exceptions.ReadOnlyError as exc:
            # The server became a replica (a Sentinel failover): a new connection from
            # the pool finds the new master; this request is a Redis outage.
            self._drop(pinned)
            raise exceptions.ConnectionError(f"Redis is a replica now: {exc}") from exc
        except exceptions.ResponseError:
            raise  # the connection is in step: it stays
        except Exception as exc:
            self._drop(pinned)
            stale = isinstance(exc, OSError | exceptions.ConnectionError) and not isinstance(
                exc, TimeoutError | exceptions.TimeoutError
            )  # a dead socket fails at once; a timeout means Redis is there but stuck
            if not (pinned.used and stale):
                raise
            pinned = self._pinned()  # the old connection may have died quietly: once more
            try:
                return work(pinned)
            except Exception:
                self._drop(pinned)
                raise

    def execute(self, commands: list[tuple]) -> list:
        """The replies of ``commands`` in one round trip; an error reply raises ResponseError."""
        return self._call(lambda pinned: pinned.execute(commands))

    def mget_local(self, names: list[bytes]) -> tuple[list[bytes | None], tuple] | None:
        """``MGET names`` from tracked copies where current, with their generation
        (``Pinned.mget_local``); None when this connection cannot track (RESP2, a server
        before 6, an ACL)."""
        return self._call(lambda pinned: None if pinned.local is None else pinned.mget_local(names))

    def unchanged(self, names: list[bytes], stamp: tuple) -> bool:
        """``Pinned.unchanged`` on this thread's connection, if it is the one that made
        the stamp; False otherwise, and when the connection fails (it is dropped: the
        caller's next read opens another)."""
        pinned = getattr(self._local, "pinned", None)
        if pinned is None or pinned.local is not stamp[0]:
            return False
        try:
            return pinned.unchanged(names, stamp)
        except exceptions.ResponseError:
            return False
        except Exception:
            self._drop(pinned)
            return False
