"""Reads of users, labels and roles shared by views, admin and the apps above accounts."""

from django.apps import apps
from django.conf import settings
from django.db.models import QuerySet

from accounts.labels import label_key_valid, label_normalize
from accounts.models import Label, User
from barong.api.errors import ApiError


def role_exists(role: str) -> bool:
    """Roles known to the system are the distinct roles of the rule table.

    That table belongs to an app above accounts, so settings name its model
    (``BARONG_ROLE_MODEL``, as ``AUTH_USER_MODEL`` names the user model) and accounts
    imports nothing of it.
    """
    return apps.get_model(settings.BARONG_ROLE_MODEL)._default_manager.filter(role=role).exists()


def admin_user_get(uid: str, queryset: QuerySet[User] | None = None) -> User:
    """The target of an operator's request, or 404 ``admin.user.doesnt_exist``."""
    user = (queryset if queryset is not None else User.objects).filter(uid=uid.upper()).first()
    if user is None:
        raise ApiError("admin.user.doesnt_exist", 404)
    return user


def label_find(*, user: User, key: str, scope: str) -> Label | None:
    """The user's label with that (normalised) key in that scope."""
    return Label.objects.filter(user=user, key=label_normalize(key), scope=scope).first()


def label_user_find(*, user: User, key: str) -> Label | None:
    """The user's first label with that key, whatever its scope (Barong's lookup)."""
    key = label_normalize(key)
    if not label_key_valid(key):  # no such label; NUL in a URL would break a PostgreSQL query
        return None
    return Label.objects.filter(user=user, key=key).order_by("id").first()
