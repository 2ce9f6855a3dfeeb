"""An optional read replica for the operators' screens (``DATABASE_REPLICA_URL``).

``ReplicaReadsMiddleware`` marks GET/HEAD requests of the admin API and the back-office;
while one is served, ``ReplicaRouter`` sends reads to the ``replica`` alias, as long as the
replica answers and is at most ``DATABASE_REPLICA_MAX_LAG`` seconds behind; otherwise they
go to the primary, with nothing shown to the operator. Everything else — writes, the
sign-in and authz paths, every other request, Celery — stays on ``default``. Without a
``replica`` database the router answers nothing (Django's default). docs/operations.md
("A read replica for the operators' reads") describes the trade-off.
"""

import logging
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings
from django.db import DatabaseError, connections, transaction

logger = logging.getLogger(__name__)

REPLICA = "replica"
READ_ONLY_METHODS = ("GET", "HEAD")
# The operators' reads: the admin API under both mounts, and the back-office.
REPLICA_PATH_PREFIXES = ("/api/v2/admin/", "/api/v2/barong/admin/", "/admin/")

_replica_reads: ContextVar[bool] = ContextVar("barong_replica_reads", default=False)
# Set when a read of the current request went to the replica.
_replica_used: ContextVar[list | None] = ContextVar("barong_replica_used", default=None)


def replica_configured() -> bool:
    return REPLICA in settings.DATABASES


# How far behind the replica is, in seconds: 0 when it has replayed all it received (an
# idle primary is no lag), else the age of the last transaction it replayed. A primary
# (not in recovery) is never behind.
LAG_SQL = """
SELECT CASE
    WHEN NOT pg_is_in_recovery() THEN 0
    WHEN pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn() THEN 0
    ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 1e9)
END
"""


class _Freshness:
    """The replica's last verdict, shared by the threads of a process, renewed at most once
    per ``DATABASE_REPLICA_CHECK_INTERVAL``: one small query a second, not one a request.
    A replica that did not answer is left alone for ``DATABASE_REPLICA_RETRY`` seconds, so
    only one operator's read in that time waits for it to fail."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.due = float("-inf")  # when to ask again
        self.fresh = False

    def __call__(self) -> bool:
        if time.monotonic() < self.due:
            return self.fresh
        if not self.lock.acquire(blocking=False):
            return self.fresh  # another thread is asking; its answer comes in a moment
        try:
            self.fresh, answered = self._ask()
            wait = settings.DATABASE_REPLICA_CHECK_INTERVAL
            self.due = time.monotonic() + (wait if answered else settings.DATABASE_REPLICA_RETRY)
        finally:
            self.lock.release()
        return self.fresh

    def failed(self) -> None:
        """A read on the replica failed: the primary serves until the retry delay is over."""
        self.fresh = False
        self.due = time.monotonic() + settings.DATABASE_REPLICA_RETRY
        connections[REPLICA].close()

    def forget(self) -> None:
        self.due = float("-inf")

    @staticmethod
    def _ask() -> tuple[bool, bool]:
        """(fresh enough to read, answered at all)."""
        if "postgresql" not in settings.DATABASES[REPLICA].get("ENGINE", ""):
            return True, True  # no replication to measure (the router's tests on SQLite)
        replica = connections[REPLICA]
        try:
            with replica.cursor() as cursor:
                cursor.execute(LAG_SQL)
                lag = float(cursor.fetchone()[0])
        except DatabaseError as exc:
            logger.warning("replica unavailable, operators' reads go to the primary: %s", exc)
            replica.close()  # a new connection next time; Django would keep the broken one
            return False, False
        if lag > settings.DATABASE_REPLICA_MAX_LAG:
            logger.warning("replica %.1f s behind, operators' reads go to the primary", lag)
            return False, True
        return True, True


replica_fresh = _Freshness()


@contextmanager
def replica_reads():
    """Reads inside the block may go to the replica (when one is configured)."""
    token = _replica_reads.set(True)
    try:
        yield
    finally:
        _replica_reads.reset(token)


def replica_request(method: str, path: str) -> bool:
    return method in READ_ONLY_METHODS and path.startswith(REPLICA_PATH_PREFIXES)


class ReplicaReadsMiddleware:
    """Serve the operators' read-only requests with replica reads allowed.

    A replica that fails between two checks (stopped, cut off) fails the read that was
    on it, which would answer 503: such a GET or HEAD is served again on the primary
    (it changes nothing, so running it twice is harmless), and the replica is left alone
    for ``DATABASE_REPLICA_RETRY`` seconds.
    """

    def __init__(self, get_response: Callable) -> None:
        self.get_response = get_response

    def __call__(self, request):
        if not (replica_configured() and replica_request(request.method, request.path_info)):
            return self.get_response(request)
        used: list = []
        used_token = _replica_used.set(used)
        try:
            with replica_reads():
                response = self.get_response(request)
        finally:
            _replica_used.reset(used_token)
        if response.status_code == 503 and used:
            logger.warning("a read on the replica failed; served again on the primary")
            replica_fresh.failed()
            return self.get_response(request)
        return response


class ReplicaRouter:
    """Reads of a marked request go to ``replica``; writes and migrations to ``default``."""

    def db_for_read(self, model, **hints) -> str | None:
        if not (_replica_reads.get() and replica_configured()):
            return None
        # A read inside a transaction on the primary must see that transaction's writes.
        if transaction.get_connection("default").in_atomic_block:
            return None
        if not replica_fresh():
            return None
        used = _replica_used.get()
        if used is not None and not used:
            used.append(True)
        return REPLICA

    def db_for_write(self, model, **hints) -> str | None:
        return None

    def allow_relation(self, obj1, obj2, **hints) -> bool | None:
        return True  # both aliases hold the same rows

    def allow_migrate(self, db: str, app_label: str, model_name=None, **hints) -> bool | None:
        return db != REPLICA  # the replica follows the primary; it is never migrated
