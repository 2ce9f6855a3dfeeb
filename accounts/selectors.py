"""Reads of users, labels and roles shared by views, admin and the apps above accounts."""

from collections.abc import Callable
from typing import NamedTuple

from django.apps import apps
from django.conf import settings
from django.db import connections, router
from django.db.models import Exists, OuterRef, QuerySet, Sum

from accounts.labels import label_key_valid, label_normalize
from accounts.models import USER_ID_BLOCK, Label, User, UserIdBlock
from accounts.roles import OPERATOR_ROLES, ROLES_BY_NAME
from barong.api.errors import ApiError


def role_exists(role: str) -> bool:
    """Roles known to the system are the distinct roles of the rule table.

    That table belongs to an app above accounts, so settings name its model
    (``BARONG_ROLE_MODEL``, as ``AUTH_USER_MODEL`` names the user model) and accounts
    imports nothing of it.
    """
    return apps.get_model(settings.BARONG_ROLE_MODEL)._default_manager.filter(role=role).exists()


def roles_known() -> list[str]:
    """Every role a user may be given (``role_exists``): member, the operator roles from
    the highest rank down, then any other role the rules name, alphabetically."""
    model = apps.get_model(settings.BARONG_ROLE_MODEL)
    named = set(model._default_manager.values_list("role", flat=True).distinct())
    usual = ["member", *sorted(OPERATOR_ROLES, key=lambda name: -ROLES_BY_NAME[name].rank)]
    return [role for role in usual if role in named] + sorted(named - set(usual))


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


def user_ids_page(*, start: int, size: int) -> tuple[int, list[int]] | None:
    """(exact total, ids at positions ``start…start+size``) of all users in id order.

    The per-block counts (``UserIdBlock``) locate the block holding position ``start``, so
    the walk covers at most one block of ids however deep the page (page 10,000 of a
    million users walked a million index entries). None where no trigger keeps the counts
    (SQLite): the caller walks the ids.
    """
    using = router.db_for_read(User)  # the replica, when the admin's reads go there
    if connections[using].vendor != "postgresql":
        return None
    blocks = (
        UserIdBlock.objects.using(using)
        .values_list("block")
        .annotate(users=Sum("users"))
        .filter(users__gt=0)
        .order_by("block")
    )
    counted = list(blocks)
    total = sum(users for _block, users in counted)
    before = 0
    for block, users in counted:
        if start < before + users:
            offset = start - before
            ids = User.objects.using(using).filter(pk__gte=block * USER_ID_BLOCK).order_by("pk")
            return total, list(ids.values_list("pk", flat=True)[offset : offset + size])
        before += users
    return total, []


class LabelHolders(NamedTuple):
    """The users having a label, in id order, and their ids read from the labels alone
    (the ``(key, value, user_id)`` index: a page's ids without touching users)."""

    users: QuerySet[User]
    ids: QuerySet


def users_having_label(
    *,
    key: str,
    value: str | None = None,
    scope: str | None = None,
    narrow: Callable[[QuerySet[Label]], QuerySet[Label]] | None = None,
) -> LabelHolders:
    """Users with a label of ``key`` (and ``value``, ``scope`` when given; key and value
    compared normalised), each once; ``narrow`` may filter the labels further (a time range).
    The admin API and the management API both list them from here."""
    labels = Label.objects.filter(key=label_normalize(key))
    if value is not None:
        labels = labels.filter(value=label_normalize(value))
    if scope is not None:
        labels = labels.filter(scope=scope)
    if narrow is not None:
        labels = narrow(labels)
    users = User.objects.filter(Exists(labels.filter(user=OuterRef("pk")))).order_by("id")
    ids = labels.order_by("user_id").values_list("user_id", flat=True).distinct()
    return LabelHolders(users=users, ids=ids)
