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
"""

import errno
import os
import socket
import struct
import threading

from redis import exceptions

_CRLF = b"\r\n"


class _Incomplete(Exception):
    """More bytes are needed to finish the reply."""


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
    if kind in (42, 126):  # * array, ~ set
        count = int(line)
        if count < 0:
            return None, pos
        items = []
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
    """One connection opened by redis-py, used here only."""

    def __init__(self, pool) -> None:
        self.connection = pool.connection_class(**pool.connection_kwargs)
        self.connection.connect()  # the handshake: TLS, AUTH, SELECT, HELLO
        self.sock = self.connection._sock
        self.used = False
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

    def close(self) -> None:
        try:
            self.connection.disconnect()
        except Exception:  # already broken: nothing more to release
            self.sock.close()

    def run(self, packed: bytes, replies: int) -> list:
        """Send ``packed`` (``replies`` commands) and read every reply."""
        try:
            return self._run(packed, replies)
        except BlockingIOError as exc:  # the kernel's timeout (EAGAIN)
            raise TimeoutError(errno.ETIMEDOUT, "Redis did not answer in time") from exc

    def _run(self, packed: bytes, replies: int) -> list:
        self.sock.sendall(packed)
        buf = b""
        while True:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise exceptions.ConnectionError("Redis closed the connection")
            buf += chunk
            try:
                pos, results = 0, []
                for _ in range(replies):
                    value, pos = parse(buf, pos)
                    results.append(value)
            except _Incomplete:
                continue
            if pos != len(buf):  # a reply nobody asked for: the connection is out of step
                raise exceptions.ConnectionError("unexpected bytes after the replies")
            self.used = True
            return results


class WireClient:
    """Pipelined commands on a connection of ``pool``'s kind, one per thread and process."""

    def __init__(self, pool_getter) -> None:
        self._pool_getter = pool_getter
        self._local = threading.local()
        self._pid = os.getpid()

    def _pinned(self) -> _Pinned:
        if self._pid != os.getpid():  # forked: the parent's sockets are not ours
            self._local = threading.local()
            self._pid = os.getpid()
        pinned = getattr(self._local, "pinned", None)
        if pinned is None:
            try:
                pinned = _Pinned(self._pool_getter())
            except OSError as exc:  # refused, unreachable, timed out
                raise exceptions.ConnectionError(str(exc)) from exc
            self._local.pinned = pinned
        return pinned

    def _drop(self, pinned: _Pinned) -> None:
        self._local.pinned = None
        pinned.close()

    def execute(self, packed: bytes, replies: int) -> list:
        """The replies of ``replies`` packed commands; a reply error raises ResponseError."""
        pinned = self._pinned()
        try:
            results = pinned.run(packed, replies)
        except Exception as exc:
            self._drop(pinned)
            stale = isinstance(exc, OSError | exceptions.ConnectionError) and not isinstance(
                exc, TimeoutError
            )  # a dead socket fails at once; a timeout means Redis is there but stuck
            if not (pinned.used and stale):
                raise _translated(exc) from exc
            pinned = self._pinned()  # the old connection may have died quietly: once more
            try:
                results = pinned.run(packed, replies)
            except Exception as again:
                self._drop(pinned)
                raise _translated(again) from again
        for value in results:
            if isinstance(value, exceptions.ResponseError):
                if str(value).startswith("READONLY"):
                    # The server became a replica (a Sentinel failover): a new connection
                    # from the pool finds the new master; this request is a Redis outage.
                    self._drop(pinned)
                    raise exceptions.ConnectionError(f"Redis is a replica now: {value}")
                raise value
        return results


def _translated(exc: BaseException) -> BaseException:
    if isinstance(exc, TimeoutError):
        return exceptions.TimeoutError(str(exc) or "Redis did not answer in time")
    if isinstance(exc, OSError):
        return exceptions.ConnectionError(str(exc) or type(exc).__name__)
    return exc
