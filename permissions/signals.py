"""Authz cache invalidation on every save or delete of a user or an API key.

Domain rules stay out of signals (they live in services); this is not one. The authz snapshots are
copies of the rows, and a copy must go whenever its row changes, whoever changes it:
a ban or a revoked key saved from the shell, a data migration or a fixture would
otherwise keep working until the cache TTL runs out. Services call nothing for API
keys and rely on this. Bulk ``QuerySet.update()`` sends no signal, which is why a
user's invalidation also drops the snapshots of the user's keys.
"""

from django.db import transaction


def user_changed(sender, instance, created: bool = False, **kwargs) -> None:
    from permissions.snapshots import user_cache_invalidate

    if created:  # a new row has no snapshot and no keys to drop (a sign-up's two queries)
        return
    user_cache_invalidate(instance.uid)


def users_updated_in_bulk(sender, *, ids, uids, **kwargs) -> None:
    """``accounts.signals.users_updated_in_bulk``: a resync rewrote these users' rows."""
    from permissions.snapshots import users_cache_invalidate

    users_cache_invalidate(ids=ids, uids=uids)


def api_key_changed(sender, instance, **kwargs) -> None:
    from apikeys.signatures import api_key_cache_invalidate

    kid = instance.kid
    api_key_cache_invalidate(kid)
    transaction.on_commit(lambda: api_key_cache_invalidate(kid), robust=True)
