"""What authz needs to know about a user, kept in the shared cache and dropped on change.

The authz hot path must not touch the database in the steady state. A snapshot holds
the user's JWT claims plus the fields authz checks (state, 2FA); every save or delete of
a user calls ``user_cache_invalidate`` (permissions/signals.py), so a ban, a role change
or 2FA switched off is seen by the very next request on every worker. The TTL bounds
the one race a delete-on-change cache has (a reader filling the cache with a row it
read just before the writer committed).
"""

import logging
from typing import Any

from django.core.cache import cache
from django.db import transaction

from barong.db.sets import filter_ids

logger = logging.getLogger(__name__)

USER_TTL = 60


def user_key(uid: str) -> str:
    return f"authz:user:{uid}"


def user_snapshot_build(user) -> dict[str, Any]:
    """The cached fields: Barong's JWT claims, the 2FA flag, the security lock's end and
    the row id."""
    return {
        "id": user.pk,
        "uid": user.uid,
        "email": user.email,
        "role": user.role,
        "level": int(user.level),
        "state": user.state,
        "otp": bool(user.otp),
        "referral_id": user.referral_id,
        # A unix time; rules marked security_lock refuse the user until then.
        "security_lock_until": (
            int(user.security_lock_until.timestamp()) if user.security_lock_until else None
        ),
    }


def user_snapshot_load(uid: str) -> dict[str, Any] | None:
    """The snapshot from the database (and into the cache); None if no such user."""
    from accounts.models import User

    user = User.objects.filter(uid=uid).first()
    if user is None:
        return None
    snapshot = user_snapshot_build(user)
    cache.set(user_key(uid), snapshot, USER_TTL)
    return snapshot


def user_snapshot(uid: str, cached: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """The user's snapshot, from ``cached`` (a value already fetched) or the cache or the DB."""
    if cached is None:
        cached = cache.get(user_key(uid))
    if cached is not None:
        return cached
    return user_snapshot_load(uid)


def _drop(uid: str) -> None:
    """Drop the cached entries; a cache outage is logged, never raised into the change.

    While the cache is unreachable nobody reads the stale entry from it, and the TTL
    bounds how long one kept across the outage can live.
    """
    from apikeys.models import APIKey
    from apikeys.signatures import api_key_cache_invalidate

    try:
        cache.delete(user_key(uid))
        # A ban or 2FA off deactivates the user's keys with a bulk update, which sends no
        # signal: drop their snapshots too.
        for kid in APIKey.objects.filter(user__uid=uid).values_list("kid", flat=True):
            api_key_cache_invalidate(kid)
    except Exception:  # Redis down or slow: the answer and later commit hooks must go on
        logger.exception("authz cache of user %s not dropped", uid)


def user_cache_invalidate(uid: str) -> None:
    """Forget the user's snapshot (and keys) now and again once the transaction commits.

    Now, so this process and tests see it at once; after commit, because a concurrent
    reader may have cached the old row in between.
    """
    _drop(uid)
    transaction.on_commit(lambda: _drop(uid), robust=True)


def _drop_many(keys: list[str]) -> None:
    """Drop these cache keys in one call; an outage is logged, as in ``_drop``."""
    try:
        cache.delete_many(keys)
    except Exception:  # as in _drop: the change goes on, the TTL bounds staleness
        logger.exception("authz cache of %d entries not dropped", len(keys))


def users_cache_invalidate(*, ids: list[int], uids: list[str]) -> None:
    """``user_cache_invalidate`` for a batch (a level resync) of users, given by their ids
    and uids: one query for their API keys, one cache call now and one after commit."""
    from apikeys.models import APIKey
    from apikeys.signatures import api_key_cache_key

    if not uids:
        return
    kids = filter_ids(APIKey.objects.all(), "user", ids).values_list("kid", flat=True)
    keys = [user_key(uid) for uid in uids] + [api_key_cache_key(kid) for kid in kids]
    _drop_many(keys)
    transaction.on_commit(lambda: _drop_many(keys), robust=True)
