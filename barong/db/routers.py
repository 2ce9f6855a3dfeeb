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
    per ``DATABASE_REPLICA_CHECK_INTERVAL``: one small query a second, not one a request."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.checked = float("-inf")
        self.fresh = False

    def __call__(self) -> bool:
        now = time.monotonic()
        if now - self.checked < settings.DATABASE_REPLICA_CHECK_INTERVAL:
            return self.fresh
        if not self.lock.acquire(blocking=False):
            return self.fresh  # another thread is asking; its answer comes in a moment
        try:
            self.fresh = self._ask()
            self.checked = time.monotonic()
        finally:
            self.lock.release()
        return self.fresh

    def forget(self) -> None:
        self.checked = float("-inf")

    @staticmethod
    def _ask() -> bool:
        if "postgresql" not in settings.DATABASES[REPLICA].get("ENGINE", ""):
            return True  # no replication to measure (the router's tests on SQLite)
        replica = connections[REPLICA]
        try:
            with replica.cursor() as cursor:
                cursor.execute(LAG_SQL)
                lag = float(cursor.fetchone()[0])
        except DatabaseError as exc:
            logger.warning("replica unavailable, operators' reads go to the primary: %s", exc)
            replica.close()  # a new connection next time; Django would keep the broken one
            return False
        if lag > settings.DATABASE_REPLICA_MAX_LAG:
            logger.warning("replica %.1f s behind, operators' reads go to the primary", lag)
            return False
        return True


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
    """Serve the operators' read-only requests with replica reads allowed."""

    def __init__(self, get_response: Callable) -> None:
        self.get_response = get_response

    def __call__(self, request):
        if replica_configured() and replica_request(request.method, request.path_info):
            with replica_reads():
                return self.get_response(request)
        return self.get_response(request)


class ReplicaRouter:
    """Reads of a marked request go to ``replica``; writes and migrations to ``default``."""

    def db_for_read(self, model, **hints) -> str | None:
        if not (_replica_reads.get() and replica_configured()):
            return None
        # A read inside a transaction on the primary must see that transaction's writes.
        if transaction.get_connection("default").in_atomic_block:
            return None
        return REPLICA if replica_fresh() else None

    def db_for_write(self, model, **hints) -> str | None:
        return None

    def allow_relation(self, obj1, obj2, **hints) -> bool | None:
        return True  # both aliases hold the same rows

    def allow_migrate(self, db: str, app_label: str, model_name=None, **hints) -> bool | None:
        return db != REPLICA  # the replica follows the primary; it is never migrated
