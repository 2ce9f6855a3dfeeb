"""Operators' changes to users (admin API and back office): state, 2FA, role, labels, bans, levels.

Each one is guarded (``user_admin_guard``) and audited (``admin_activity_record``).
"""

import logging

from django.db import transaction

from accounts.models import Label, Level, User
from accounts.roles import SUPERADMIN, role_outranks
from accounts.selectors import label_find
from accounts.services.guards import superadmins_lock
from accounts.services.labels import level_upsert
from accounts.services.resync import resync_job_start, users_resync_range
from accounts.services.users import (
    label_delete,
    label_set,
    user_otp_set,
    user_role_set,
    user_state_set,
)
from activities.services import admin_activity_record, admin_refusal_record
from barong.api.errors import ApiError

logger = logging.getLogger(__name__)


def _refused(
    key: str,
    *,
    admin: User,
    user: User | None,
    topic: str,
    action: str,
    role: str | None = None,
) -> ApiError:
    """A guard's refusal: logged, and kept in the audit log as a ``denied`` admin row
    written after the request's transactions (``admin_refusal_record``), since the
    refused service's own transaction rolls back with it."""
    target = f"user {user.uid} ({user.role})" if user is not None else "a user"
    if role is not None:
        target += f", giving role {role[:64]!r}"
    logger.warning("operator %s (%s) refused on %s: %s", admin.uid, admin.role, target, key)
    data: dict[str, str] = {"error": key}
    if user is not None:
        data |= {"uid": user.uid, "target_role": user.role}
    if role is not None:
        data["role"] = role[:64]
    admin_refusal_record(admin=admin, topic=topic, action=action, target=user, data=data)
    return ApiError(key)


def user_admin_guard(
    *,
    admin: User,
    user: User,
    prefix: str = "admin.user",
    own_account: bool = False,
    topic: str = "users",
    action: str = "update",
) -> None:
    """Every operator action on a user asks here: only users ranked below the operator's
    role (``accounts.roles``), never the operator's own account (``own_account``: an
    action allowed there too, such as ending one's own sessions).

    Refusals: ``update_himself`` for one's own account, ``superadmin_change`` for a
    superadmin (Barong's keys), ``insufficient_rank`` for any other user at or above the
    operator's rank; all 422, as Barong answers its guards. Each is audited as a
    ``denied`` attempt of ``topic``/``action`` (the row a success would have written).
    """
    refused = {"admin": admin, "user": user, "topic": topic, "action": action}
    if user.pk == admin.pk:
        if own_account:
            return
        raise _refused("admin.user.update_himself", **refused)
    if role_outranks(admin.role, user.role):
        return
    key = "superadmin_change" if user.role == SUPERADMIN else "insufficient_rank"
    raise _refused(f"{prefix}.{key}", **refused)


def role_grant_guard(*, admin: User, role: str, user: User | None = None) -> None:
    """An operator gives only roles ranked below its own (a superadmin: superadmin too);
    ``user``, the one who would get it, is named in the refusal's audit row."""
    if role_outranks(admin.role, role):  # one it outranks, never one above its own
        return
    key = "superadmin_change" if role == SUPERADMIN else "insufficient_rank"
    raise _refused(
        f"admin.user.{key}", admin=admin, user=user, topic="users", action="update", role=role
    )


def _locked(user: User) -> User:
    """The user's row, locked for the rest of the transaction (two operators, one answer).

    A superadmin's change also locks every active superadmin, in id order, before the
    last-superadmin check does: the same order everywhere, so no deadlock."""
    if user.role == SUPERADMIN:
        superadmins_lock()
    return User.objects.select_for_update().get(pk=user.pk)


def _user_update_audit(*, admin: User, user: User, request, data: dict) -> None:
    """The audit row of an operator's change to a user: ``users/update`` naming the user."""
    admin_activity_record(
        admin=admin,
        topic="users",
        action="update",
        target=user,
        request=request,
        data={"uid": user.uid, **data},
    )


@transaction.atomic
def user_state_admin_set(*, admin: User, user: User, state: str, request=None) -> User:
    """An operator moves a user to one of the known states; the change is audited."""
    user = _locked(user)
    user_admin_guard(admin=admin, user=user)
    if user.state == state:
        raise ApiError("admin.user.state_no_change")
    if state not in User.State.values:
        raise ApiError("state.inclusion")
    previous = user.state
    user = user_state_set(user=user, state=state)
    User.objects.filter(pk=user.pk).update(state_manual=True)  # labels no longer decide it
    user.state_manual = True
    _user_update_audit(
        admin=admin, user=user, request=request, data={"state": state, "previous_state": previous}
    )
    return user


@transaction.atomic
def user_otp_admin_set(*, admin: User, user: User, otp: bool, request=None) -> User:
    """Operators may only switch 2FA off (the user alone holds the seed); audited."""
    user = _locked(user)
    user_admin_guard(admin=admin, user=user)
    if otp:
        raise ApiError("admin.user.enable_2fa")
    if not user.otp:
        raise ApiError("admin.user.otp_no_change")
    user = user_otp_set(user=user, enabled=False)
    _user_update_audit(
        admin=admin, user=user, request=request, data={"otp": False, "previous_otp": True}
    )
    return user


def user_otp_admin_disable(*, admin: User, user: User, request=None) -> User:
    """Switch a user's 2FA off on their behalf (lost authenticator); audited."""
    return user_otp_admin_set(admin=admin, user=user, otp=False, request=request)


@transaction.atomic
def user_role_admin_set(*, admin: User, user: User, role: str, request=None) -> User:
    """Give a user another known role, one ranked below the operator's own (``superadmin``:
    only a superadmin grants or removes it)."""
    user = _locked(user)
    user_admin_guard(admin=admin, user=user)
    if user.role == role:
        raise ApiError("admin.user.role_no_change")
    role_grant_guard(admin=admin, role=role, user=user)
    previous = user.role
    user = user_role_set(user=user, role=role)
    _user_update_audit(
        admin=admin, user=user, request=request, data={"role": role, "previous_role": previous}
    )
    return user


# ---------------------------------------------------------------- labels, bans and levels
KYC_DECISIONS = ("verified", "rejected")


def _label_audit(*, admin: User, user: User, action: str, label: Label, request) -> None:
    data = {"uid": user.uid, "key": label.key, "value": label.value, "scope": label.scope}
    private_document = label.key == "document" and label.scope == Label.Scope.PRIVATE
    if private_document and label.value in KYC_DECISIONS and action != "delete":
        data["kyc_decision"] = label.value  # the operator's KYC verdict on the documents
    admin_activity_record(
        admin=admin, topic="users", action=action, target=user, request=request, data=data
    )


@transaction.atomic
def label_admin_create(
    *,
    admin: User,
    user: User,
    key: str,
    value: str,
    scope: str = Label.Scope.PUBLIC,
    description: str | None = None,
    request=None,
) -> Label:
    """An operator adds a label that the user does not have yet (``key.taken`` otherwise)."""
    user_admin_guard(admin=admin, user=user, action="create")
    if label_find(user=user, key=key, scope=scope) is not None:
        raise ApiError("key.taken")
    label = label_set(user=user, key=key, value=value, scope=scope, description=description)
    _label_audit(admin=admin, user=user, action="create", label=label, request=request)
    return label


@transaction.atomic
def label_admin_upsert(
    *,
    admin: User,
    user: User,
    key: str,
    value: str,
    scope: str,
    description: str | None = None,
    replace: bool = True,
    request=None,
) -> Label:
    """Set a label's value and description, creating it when ``replace`` allows."""
    user_admin_guard(admin=admin, user=user)
    found = label_find(user=user, key=key, scope=scope)
    if found is None and not replace:
        raise ApiError("admin.label.doesnt_exist", 404)
    label = label_set(user=user, key=key, value=value, scope=scope, description=description)
    action = "create" if found is None else "update"
    _label_audit(admin=admin, user=user, action=action, label=label, request=request)
    return label


@transaction.atomic
def label_admin_update(
    *,
    admin: User,
    user: User,
    key: str,
    value: str,
    scope: str,
    description: str | None = None,
    request=None,
) -> Label:
    """Change an existing label's value; its description only when one is given."""
    user_admin_guard(admin=admin, user=user)
    if label_find(user=user, key=key, scope=scope) is None:
        raise ApiError("admin.label.doesnt_exist", 404)
    label = label_set(
        user=user,
        key=key,
        value=value,
        scope=scope,
        description=description,
        keep_description=description is None,
    )
    _label_audit(admin=admin, user=user, action="update", label=label, request=request)
    return label


@transaction.atomic
def label_admin_delete(*, admin: User, user: User, key: str, scope: str, request=None) -> None:
    """Remove a user's label; a private one recomputes level and state."""
    user_admin_guard(admin=admin, user=user, action="delete")
    label = label_find(user=user, key=key, scope=scope)
    if label is None:
        raise ApiError("admin.label.doesnt_exist", 404)
    _label_audit(admin=admin, user=user, action="delete", label=label, request=request)
    label_delete(label=label)


@transaction.atomic
def level_admin_save(
    *, admin: User, id: int, key: str, value: str, description: str, request=None
) -> Level:
    """An operator's level row: saved and audited at once; the users it may move are
    recomputed by a resync job (accounts/services/resync.py) after commit."""
    previous = Level.objects.filter(pk=id).values("key", "value", "description").first()
    level = level_upsert(id=id, key=key, value=value, description=description)
    resync_job_start(reason=f"level {level.pk} saved", from_level=level.pk - 1)
    data = {"id": level.pk, "key": level.key, "value": level.value}
    admin_activity_record(
        admin=admin,
        topic="levels",
        action="update" if previous else "create",
        request=request,
        data={**data, "description": level.description, "previous": previous},
    )
    return level


BAN_LABEL = "ban"
BAN_VALUE = "by_admin"


@transaction.atomic
def user_ban_admin_set(
    *, admin: User, user: User, banned: bool, reason: str | None = None, request=None
) -> User:
    """Ban or unban through the private ``ban`` label, so state and level stay derived.

    Unbanning removes that label only; another trigger label (``fraud…``) keeps the state.
    """
    user = User.objects.select_for_update().get(pk=user.pk)
    user_admin_guard(admin=admin, user=user)
    if user.state_manual:  # the operator hands the state back to the labels
        User.objects.filter(pk=user.pk).update(state_manual=False)
        user.state_manual = False
    found = label_find(user=user, key=BAN_LABEL, scope=Label.Scope.PRIVATE)
    if banned:
        if found is not None:
            raise ApiError("admin.user.state_no_change")
        label_admin_create(
            admin=admin,
            user=user,
            key=BAN_LABEL,
            value=BAN_VALUE,
            scope=Label.Scope.PRIVATE,
            description=reason,
            request=request,
        )
    else:
        if found is None:
            raise ApiError("admin.user.state_no_change")
        label_admin_delete(
            admin=admin, user=user, key=BAN_LABEL, scope=Label.Scope.PRIVATE, request=request
        )
    user.refresh_from_db()
    return user


@transaction.atomic
def user_state_admin_release(*, admin: User, user: User, request=None) -> User:
    """An operator hands a manually set state back to the labels; audited."""
    user = User.objects.select_for_update().get(pk=user.pk)
    user_admin_guard(admin=admin, user=user)
    if not user.state_manual:
        raise ApiError("admin.user.state_no_change")
    User.objects.filter(pk=user.pk).update(state_manual=False)
    previous = user.state
    users_resync_range(low=user.pk - 1, high=user.pk, lift=True)
    user.refresh_from_db()
    _user_update_audit(
        admin=admin,
        user=user,
        request=request,
        data={"state": user.state, "previous_state": previous, "manual": False},
    )
    return user
