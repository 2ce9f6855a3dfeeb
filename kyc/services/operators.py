"""Operator decisions (admin API and back office): labels, documents, levels, bans, profiles."""

from typing import Any

from django.db import transaction

from accounts.models import User
from accounts.services import user_admin_guard
from activities.services import admin_activity_record
from barong.api.errors import ApiError
from kyc.events import profile_event_json
from kyc.models import DataStorage, Label, Level, Profile
from kyc.services.labels import (
    label_delete,
    label_normalize,
    label_set,
    level_upsert,
    user_level_sync,
)
from kyc.services.profiles import _profile_save, profile_fields_clean

# ------------------------------------------------------------ operators (admin API, back office)
KYC_DECISIONS = ("verified", "rejected")


def _label_find(*, user: User, key: str, scope: str) -> Label | None:
    return Label.objects.filter(user=user, key=label_normalize(key), scope=scope).first()


def _label_audit(*, admin: User, user: User, action: str, label: Label, request) -> None:
    data = {"uid": user.uid, "key": label.key, "value": label.value, "scope": label.scope}
    private_document = label.key == "document" and label.scope == Label.Scope.PRIVATE
    if private_document and label.value in KYC_DECISIONS and action != "delete":
        data["kyc_decision"] = label.value  # the operator's KYC verdict on the documents
    admin_activity_record(
        admin=admin, topic="users", action=action, target=user, request=request, data=data
    )


def _label_guard(*, admin: User, user: User, scope: str) -> None:
    """Private labels decide state and level, so no operator sets their own (KYC, bans)."""
    user_admin_guard(admin=admin, user=user, himself=scope == Label.Scope.PRIVATE)


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
    _label_guard(admin=admin, user=user, scope=scope)
    if _label_find(user=user, key=key, scope=scope) is not None:
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
    _label_guard(admin=admin, user=user, scope=scope)
    found = _label_find(user=user, key=key, scope=scope)
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
    _label_guard(admin=admin, user=user, scope=scope)
    if _label_find(user=user, key=key, scope=scope) is None:
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
    _label_guard(admin=admin, user=user, scope=scope)
    label = _label_find(user=user, key=key, scope=scope)
    if label is None:
        raise ApiError("admin.label.doesnt_exist", 404)
    _label_audit(admin=admin, user=user, action="delete", label=label, request=request)
    label_delete(label=label)


@transaction.atomic
def data_storage_admin_delete(*, admin: User, user: User, title: str, request=None) -> None:
    """Delete a user's data storage and the ``<title>=recorded`` label it left."""
    user_admin_guard(admin=admin, user=user, himself=False)
    storage = DataStorage.objects.filter(user=user, title__iexact=title).first()
    if storage is None:
        raise ApiError("admin.storage.doesnt_exist", 404)
    stored_title = storage.title
    storage.delete()
    label = _label_find(user=user, key=stored_title, scope=Label.Scope.PRIVATE)
    if label is not None:
        label_delete(label=label)
    admin_activity_record(
        admin=admin,
        topic="users",
        action="delete",
        target=user,
        request=request,
        data={"uid": user.uid, "data_storage": stored_title},
    )


DOCUMENT_WAITING = ("pending", "replaced")


@transaction.atomic
def document_admin_decide(
    *, admin: User, user: User, decision: str, reason: str | None = None, request=None
) -> Label:
    """Verify or reject a waiting user's documents: the private ``document`` label moves.

    Only a waiting request (label pending or replaced) is decided, so two operators cannot
    both answer it; operators never decide on their own documents.
    """
    if decision not in KYC_DECISIONS:
        raise ApiError("value.inclusion")
    user = User.objects.select_for_update().get(pk=user.pk)
    user_admin_guard(admin=admin, user=user)
    current = _label_find(user=user, key="document", scope=Label.Scope.PRIVATE)
    if current is None or current.value not in DOCUMENT_WAITING:
        raise ApiError("admin.label.not_pending")
    return label_admin_upsert(
        admin=admin,
        user=user,
        key="document",
        value=decision,
        scope=Label.Scope.PRIVATE,
        description=reason,
        request=request,
    )


def user_levels_resync(*, from_level: int) -> int:
    """After level rows change, recompute every user whose level walk could reach them."""
    synced = 0
    for pk in User.objects.filter(level__gte=max(from_level, 0)).values_list("pk", flat=True):
        with transaction.atomic():
            user = User.objects.select_for_update().filter(pk=pk).first()
            if user is not None:
                user_level_sync(user=user)
                synced += 1
    return synced


def level_admin_save(
    *, admin: User, id: int, key: str, value: str, description: str, request=None
) -> Level:
    """An operator's level row: saved, the users it may move recomputed, and audited."""
    previous = Level.objects.filter(pk=id).values("key", "value", "description").first()
    level = level_upsert(id=id, key=key, value=value, description=description)
    user_levels_resync(from_level=level.pk - 1)
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
    found = _label_find(user=user, key=BAN_LABEL, scope=Label.Scope.PRIVATE)
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
def profile_admin_update(
    *, admin: User, profile: Profile, fields: dict[str, Any], request=None
) -> Profile:
    """An operator corrects a submitted profile and may decide it; audited.

    Same field rules as the user's own edits. An operator never reviews their own
    profile, and only a superadmin touches a superadmin's.
    """
    profile = Profile.objects.select_for_update().select_related("user").get(pk=profile.pk)
    user = profile.user
    user_admin_guard(admin=admin, user=user, key="admin.profiles.superadmin_change")
    if profile.state != Profile.State.SUBMITTED:
        raise ApiError("admin.profiles.doesnt_exist_or_not_editable", 404)
    fields = dict(fields)
    state = fields.pop("state", None)
    values, keys = profile_fields_clean(fields)
    if state is not None and state not in Profile.State.values:
        keys.append("state.inclusion")
    if keys:
        raise ApiError(keys)
    before = profile_event_json(profile)
    for name, value in values.items():
        setattr(profile, name, value)
    if state is not None:
        profile.state = state
    profile = _profile_save(profile, before=before, state=Profile.State.SUBMITTED)
    admin_activity_record(
        admin=admin,
        topic="profiles",
        action="update",
        target=user,
        request=request,
        data={
            "uid": user.uid,
            "profile_id": profile.pk,
            "fields": sorted(values),
            "state": profile.state,
            "previous_state": Profile.State.SUBMITTED.value,
        },
    )
    return profile
