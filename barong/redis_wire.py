"""Redis commands for the per-request hot path, written and read on a pinned connection.

An ``MGET`` of four keys costs about 58 µs of CPU through Django's cache layer and
redis-py (pool check-out and check-in, its command packer, its pure-Python RESP3 parser,
observability hooks), and about 11 µs on a plain socket. The authz endpoint makes one such
call per request (docs/BENCHMARKS.md), so ``barong.cache.RedisCache`` sends its
``get_many`` and ``get_many_and_add`` through here.

redis-py still opens each connection (the URL's host, TLS, AUTH, database, HELLO, and
a Sentinel pool's master lookup): ``WireClient`` takes a connection of the cache's pool
class and settings and keeps it for itself, one per thread, a new one after a fork.
Only the replies these commands produce are parsed. Any socket failure closes the
connection and is raised as redis-py's ``ConnectionError``/``TimeoutError`` (so the
caller answers 503 as for any Redis outage); a command that fails on a connection that
had already served one is retried once on a new connection (a Redis restart leaves
every pinned connection dead, and the next request must not pay for it). A ``READONLY``
reply (the server was demoted by a Sentinel failover) drops the connection too, so the
next request asks the pool again and reaches the new master.

``mget_local`` serves the authz front's fast path from copies that Redis keeps current
(client-side caching, barong/redis_local.py): the connection is opened with
``CLIENT TRACKING ON OPTIN`` and every invalidation Redis pushes on it is applied, in
stream order, before a copy can be used again.
"""

import errno
import os
import socket
import struct
import threading

from redis import exceptions

from barong.redis_local import LocalCopies

_CRLF = b"\r\n"


class _Incomplete(Exception):
    """More bytes are needed to finish the reply."""


class Push(list):
    """A RESP3 push message (an invalidation of tracked keys), not a reply."""


def pack(*args: bytes | str | int) -> bytes:
    """One command in RESP (arrays of bulk strings)."""
    out = [b"*%d\r\n" % len(args)]
    for arg in args:
        if isinstance(arg, str):
            arg = arg.encode()
        elif isinstance(arg, int):
            arg = b"%d" % arg
        out.append(b"$%d\r\n%s\r\n" % (len(arg), arg))
    return b"".join(out)


def parse(buf: bytes, pos: int):
    """The reply starting at ``pos`` and where the next one starts (RESP2 and RESP3)."""
    end = buf.find(_CRLF, pos)
    if end < 0:
        raise _Incomplete
    kind = buf[pos]
    line = buf[pos + 1 : end]
    pos = end + 2
    if kind == 36:  # $ bulk string
        size = int(line)
        if size < 0:
            return None, pos
        if len(buf) < pos + size + 2:
            raise _Incomplete
        return buf[pos : pos + size], pos + size + 2
    if kind in (42, 126, 62):  # * array, ~ set, > push (RESP3)
        count = int(line)
        if count < 0:
            return None, pos
        items = [] if kind != 62 else Push()
        for _ in range(count):
            item, pos = parse(buf, pos)
            items.append(item)
        return items, pos
    if kind == 43:  # + simple string
        return line, pos
    if kind == 58:  # : integer
        return int(line), pos
    if kind == 95:  # _ null (RESP3)
        return None, pos
    if kind == 35:  # # boolean (RESP3)
        return line == b"t", pos
    if kind == 45:  # - error: returned, raised by the caller once the whole reply is read
        return exceptions.ResponseError(line.decode(errors="replace")), pos
    raise exceptions.InvalidResponse(f"unexpected reply type {chr(kind)!r}")


class _Pinned:
    """One connection opened by redis-py, used here only.

    With ``tracking`` on a RESP3 connection, the server tracks the keys ``mget_local``
    reads (``CLIENT TRACKING ON OPTIN``) and pushes an invalidation on this connection
    when one changes, expires or is evicted; the copies live in ``local``
    (barong/redis_local.py). Pushes are applied wherever they turn up in the stream:
    between replies, or waiting when a call starts (``drain``).
    """

    def __init__(self, pool, tracking: bool = False) -> None:
        self.connection = pool.connection_class(**pool.connection_kwargs)
        self.connection.connect()  # the handshake: TLS, AUTH, SELECT, HELLO
        self.sock = self.connection._sock
        self.used = False
        self.buf = b""  # bytes read but not yet parsed (the start of a push)
        self.local: LocalCopies | None = None
        # The timeout moves into the kernel (SO_RCVTIMEO/SO_SNDTIMEO): a Python-level
        # timeout polls before every send and receive, two more system calls per round
        # trip. A timed-out call fails with EAGAIN, raised as TimeoutError by ``run``.
        timeout = self.sock.gettimeout()
        if timeout and type(self.sock) is socket.socket:  # TLS keeps Python's timeout
            whole = int(timeout)
            timeval = struct.pack("ll", whole, int((timeout - whole) * 1_000_000))
            self.sock.settimeout(None)
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, timeval)
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, timeval)
        # Tracking needs RESP3 (pushes on this connection) and a plain socket (``drain``
        # reads without waiting, which TLS sockets refuse).
        if tracking and str(self.connection.protocol) == "3" and type(self.sock) is socket.socket:
            try:
                (reply,) = self.run(pack("CLIENT", "TRACKING", "ON", "OPTIN"), 1)
            except Exception:
                self.close()
                raise
            if not isinstance(reply, exceptions.ResponseError):  # an old server, an ACL
                self.local = LocalCopies()
            self.used = False  # the set-up is not a served call (see ``WireClient._call``)

    def close(self) -> None:
        try:
            self.connection.disconnect()
        except Exception:  # already broken: nothing more to release
            self.sock.close()

    def run(self, packed: bytes, replies: int) -> list:
        """Send ``packed`` (``replies`` commands) and read every reply."""
        try:
            self.sock.sendall(packed)
            return self._replies(replies)
        except BlockingIOError as exc:  # the kernel's timeout (EAGAIN)
            raise TimeoutError(errno.ETIMEDOUT, "Redis did not answer in time") from exc

    def _replies(self, replies: int) -> list:
        while True:
            if self.buf:
                results = self._parsed(replies)
                if results is not None:
                    self.used = True
                    return results
            chunk = self.sock.recv(65536)
            if not chunk:
                raise exceptions.ConnectionError("Redis closed the connection")
            self.buf += chunk

    def _parsed(self, replies: int) -> list | None:
        """``replies`` replies from the buffer (pushes applied); None if incomplete."""
        pos, results = 0, []
        try:
            while len(results) < replies:
                value, pos = parse(self.buf, pos)
                if isinstance(value, Push):
                    self._pushed(value)
                else:
                    results.append(value)
        except _Incomplete:
            return None
        # What follows the replies (pushes sent after them) waits for ``settle``: the
        # caller first stores what it read, so a later change is applied after it.
        self.buf = self.buf[pos:]
        return results

    def settle(self) -> None:
        """Apply the pushes left in the buffer; anything else means out of step."""
        if self.buf and (self.local is None or self._drained_buffer()):
            raise exceptions.ConnectionError("unexpected bytes after the replies")

    def _pushed(self, push: Push) -> None:
        if self.local is None:
            raise exceptions.ConnectionError("a push message on an untracked connection")
        self.local.pushed(push)

    def _drained_buffer(self) -> bool:
        """Apply the complete pushes in the buffer; True if a non-push turned up."""
        pos = 0
        try:
            while pos < len(self.buf):
                value, end = parse(self.buf, pos)
                if not isinstance(value, Push):
                    return True
                self._pushed(value)
                pos = end
        except _Incomplete:
            # A push still arriving may name a key held here: keep nothing until it has.
            self.local.clear()
        self.buf = self.buf[pos:]
        return False

    def drain(self) -> None:
        """Apply every invalidation that arrived since the last call (no waiting)."""
        while True:
            try:
                chunk = self.sock.recv(65536, socket.MSG_DONTWAIT)
            except BlockingIOError:
                break
            if not chunk:
                raise exceptions.ConnectionError("Redis closed the connection")
            self.buf += chunk
        self.settle()

    def mget_local(self, names: list[bytes]) -> list[bytes | None]:
        """``MGET names`` answered from the tracked copies when all are current.

        All or nothing: when one is missing, all are read again, so that an answer never
        mixes a copy with values read after an invalidation of that copy had arrived.
        """
        self.drain()
        local = self.local
        values: list[bytes | None] = [local.get(name) for name in names]
        if None in values:
            # Tracked from this read on: a change after it is pushed to this connection.
            replies = self.run(pack("CLIENT", "CACHING", "YES") + pack("MGET", *names), 2)
            for reply in replies:
                if isinstance(reply, exceptions.ResponseError):
                    raise reply  # the connection is dropped with what it tracked
            values = replies[1]
            local.put_many(names, values)
            self.settle()
        return values


class WireClient:
    """Pipelined commands on a connection of ``pool``'s kind, one per thread and process."""

    def __init__(self, pool_getter, *, tracking: bool = False) -> None:
        self._pool_getter = pool_getter
        self._tracking = tracking
        self._local = threading.local()
        self._pid = os.getpid()

    def _pinned(self) -> _Pinned:
        if self._pid != os.getpid():  # forked: the parent's sockets are not ours
            self._local = threading.local()
            self._pid = os.getpid()
        pinned = getattr(self._local, "pinned", None)
        if pinned is None:
            try:
                pinned = _Pinned(self._pool_getter(), tracking=self._tracking)
            except OSError as exc:  # refused, unreachable, timed out
                raise exceptions.ConnectionError(str(exc)) from exc
            self._local.pinned = pinned
        return pinned

    def _drop(self, pinned: _Pinned) -> None:
        self._local.pinned = None
        pinned.close()

    def _call(self, work):
        """``work(pinned)`` on this thread's connection, retried once on a new one when a
        connection that had served before turns out dead (a Redis restart)."""
        pinned = self._pinned()
        try:
            return pinned, work(pinned)
        except Exception as exc:
            self._drop(pinned)
            stale = isinstance(exc, OSError | exceptions.ConnectionError) and not isinstance(
                exc, TimeoutError
            )  # a dead socket fails at once; a timeout means Redis is there but stuck
            if not (pinned.used and stale):
                raise _translated(exc) from exc
            pinned = self._pinned()  # the old connection may have died quietly: once more
            try:
                return pinned, work(pinned)
            except Exception as again:
                self._drop(pinned)
                raise _translated(again) from again

    def execute(self, packed: bytes, replies: int) -> list:
        """The replies of ``replies`` packed commands; a reply error raises ResponseError."""

        def work(pinned: _Pinned) -> list:
            results = pinned.run(packed, replies)
            pinned.settle()
            return results

        pinned, results = self._call(work)
        for value in results:
            if isinstance(value, exceptions.ResponseError):
                if str(value).startswith("READONLY"):
                    # The server became a replica (a Sentinel failover): a new connection
                    # from the pool finds the new master; this request is a Redis outage.
                    self._drop(pinned)
                    raise exceptions.ConnectionError(f"Redis is a replica now: {value}")
                raise value
        return results

    def mget_local(self, names: list[bytes]) -> list[bytes | None] | None:
        """``MGET names`` from tracked copies where current (``_Pinned.mget_local``); None
        when this connection cannot track (RESP2, a server before 6, an ACL)."""
        _, values = self._call(
            lambda pinned: None if pinned.local is None else pinned.mget_local(names)
        )
        return values


def _translated(exc: BaseException) -> BaseException:
    if isinstance(exc, TimeoutError):
        return exceptions.TimeoutError(str(exc) or "Redis did not answer in time")
    if isinstance(exc, OSError):
        return exceptions.ConnectionError(str(exc) or type(exc).__name__)
    return exc
