"""Copies of hot Redis values in process memory, kept current by the server's invalidations.

The gateway calls authz before every request with the same few keys: two version stamps
that change when an operator edits a rule, a session that changes once a second at most,
a user snapshot that changes when the user does. Redis 6's client-side caching tracks
the keys a connection read (``CLIENT TRACKING``) and pushes an invalidation on that
connection as soon as one is written, expires or is evicted, so a copy held here is
dropped before the next call on the connection can use it (barong/redis_wire.py applies
the pushes). ``MAX_AGE`` also bounds every copy's life, a second line in case a push
were ever lost without the connection dropping.

A copy is the value's bytes; each read unpickles its own object, so no caller can
change what another reads. Only the authz front's fast path reads through here
(permissions/lean.py); why our own and not a library: docs/architecture.md.
"""

import time

MAX_AGE = 1.0  # seconds a copy may be used without being read again
MAX_KEYS = 10_000  # copies held per connection; past it, all are dropped at once


class LocalCopies:
    """name → (value, until) for the keys one tracked connection read."""

    __slots__ = ("_copies",)

    def __init__(self) -> None:
        self._copies: dict[bytes, tuple[bytes, float]] = {}

    def get(self, name: bytes) -> bytes | None:
        hit = self._copies.get(name)
        if hit is None or hit[1] < time.monotonic():
            return None
        return hit[0]

    def put_many(self, names: list[bytes], values: list[bytes | None]) -> None:
        """Values just read (and tracked from that read on); a missing key holds nothing."""
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
        if len(push) == 2 and push[0] == b"invalidate" and isinstance(push[1], list):
            for name in push[1]:
                self._copies.pop(name, None)
        else:
            self._copies.clear()

    def clear(self) -> None:
        self._copies.clear()

    def __len__(self) -> int:
        return len(self._copies)
