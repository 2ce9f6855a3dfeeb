"""Cache invalidation on saves that bypass the services (Django admin, shell, bulk code)."""

from django.db import transaction


def user_saved(sender, instance, **kwargs) -> None:
    from permissions.snapshots import user_cache_invalidate

    user_cache_invalidate(instance.uid)


def api_key_changed(sender, instance, **kwargs) -> None:
    from apikeys.signatures import api_key_cache_invalidate

    kid = instance.kid
    api_key_cache_invalidate(kid)
    transaction.on_commit(lambda: api_key_cache_invalidate(kid))
