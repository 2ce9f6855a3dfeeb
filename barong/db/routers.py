"""An optional read replica for the operators' screens (``DATABASE_REPLICA_URL``).

``ReplicaReadsMiddleware`` marks GET/HEAD requests of the admin API and the back-office;
while one is served, ``ReplicaRouter`` sends reads to the ``replica`` alias. Everything
else — writes, the sign-in and authz paths, every other request, Celery — stays on
``default``. Without a ``replica`` database the router answers nothing (Django's default).
docs/operations.md ("Running on several machines") describes the trade-off (replica lag).
"""

from collections.abc import Callable
from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings
from django.db import transaction

REPLICA = "replica"
READ_ONLY_METHODS = ("GET", "HEAD")
# The operators' reads: the admin API under both mounts, and the back-office.
REPLICA_PATH_PREFIXES = ("/api/v2/admin/", "/api/v2/barong/admin/", "/admin/")

_replica_reads: ContextVar[bool] = ContextVar("barong_replica_reads", default=False)


def replica_configured() -> bool:
    return REPLICA in settings.DATABASES


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
        return REPLICA

    def db_for_write(self, model, **hints) -> str | None:
        return None

    def allow_relation(self, obj1, obj2, **hints) -> bool | None:
        return True  # both aliases hold the same rows

    def allow_migrate(self, db: str, app_label: str, model_name=None, **hints) -> bool | None:
        return db != REPLICA  # the replica follows the primary; it is never migrated
