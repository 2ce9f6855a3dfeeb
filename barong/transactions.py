"""``isolated()``: a savepoint only where one is needed.

Inside a transaction a failed statement aborts the whole transaction on PostgreSQL, so a
write whose failure the caller survives (an activity row, a sign-up insert that may hit
a unique index) runs in a savepoint. In autocommit a failed statement spoils nothing,
and ``atomic()`` would only add a BEGIN and a COMMIT: two more database round trips per
login or sign-up.
"""

from contextlib import AbstractContextManager, nullcontext

from django.db import transaction


def isolated(using: str | None = None) -> AbstractContextManager:
    """``transaction.atomic()`` inside a transaction, nothing in autocommit."""
    if transaction.get_connection(using).in_atomic_block:
        return transaction.atomic(using=using)
    return nullcontext()
