"""The KYC chain: labels decide level and state; flows and operators change labels here."""

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from accounts.models import User
from accounts.services import user_admin_guard, user_level_save
from activities.services import admin_activity_record
from barong.api.errors import ApiError, model_error_keys
from kyc.models import DataStorage, Label, Level, Profile


def label_normalize(text: object) -> str:
    """Barong lower-cases and squishes label keys and values before validating them."""
    return re.sub(r"\s+", " ", str(text)).strip().lower()


def user_level_compute(*, private: dict[str, str], levels: list[Level]) -> int:
    """Highest N such that levels 1…N each have their private label (walk stops at a gap)."""
    level = 0
    for row in levels:
        if private.get(row.key) != row.value:
            break
        level = row.id
    return level


def user_state_compute(*, private: dict[str, str], current: str) -> str:
    """pending → active on activation labels; trigger prefixes override (§7, private only)."""
    requirements = settings.BARONG_ACTIVATION_REQUIREMENTS
    state = "active" if all(private.get(k) == v for k, v in requirements.items()) else "pending"
    for trigger_state, prefixes in settings.BARONG_STATE_TRIGGERS.items():
        if any(key.startswith(tuple(prefixes)) for key in private):
            state = trigger_state
    return state


def user_level_sync(*, user: User) -> User:
    """Recompute and store level and state from the user's private labels."""
    private = dict(
        Label.objects.filter(user=user, scope=Label.Scope.PRIVATE).values_list("key", "value")
    )
    levels = list(Level.objects.order_by("id"))
    level = user_level_compute(private=private, levels=levels)
    state = user_state_compute(private=private, current=user.state)
    return user_level_save(user=user, level=level, state=state)


@transaction.atomic
def label_set(
    *,
    user: User,
    key: str,
    value: str,
    scope: str = Label.Scope.PUBLIC,
    description: str | None = None,
    keep_description: bool = False,
) -> Label:
    """Create or change one label; a private label moves the user's level and state."""
    user = User.objects.select_for_update().get(pk=user.pk)
    key, value = label_normalize(key), label_normalize(value)
    label = Label.objects.filter(user=user, key=key, scope=scope).first()
    label = label or Label(user=user, key=key, scope=scope)
    label.value = value
    if not keep_description:
        label.description = description
    try:
        label.full_clean()
        with transaction.atomic():
            label.save()
    except ValidationError as exc:
        raise ApiError(model_error_keys(exc)) from exc
    except IntegrityError as exc:
        raise ApiError("key.taken") from exc
    if scope == Label.Scope.PRIVATE:
        user_level_sync(user=user)
    return label


@transaction.atomic
def label_delete(*, label: Label) -> None:
    """Remove a label; removing a private one recomputes level and state."""
    user = User.objects.select_for_update().get(pk=label.user_id)
    private = label.scope == Label.Scope.PRIVATE
    label.delete()
    if private:
        user_level_sync(user=user)


@transaction.atomic
def level_upsert(*, id: int, key: str, value: str, description: str) -> Level:
    """Create or update a level row by id (seeding re-runs are no-ops)."""
    level = Level.objects.filter(pk=id).first() or Level(pk=id)
    if (level.key, level.value, level.description) == (key, value, description):
        return level
    level.key, level.value, level.description = key, value, description
    try:
        level.full_clean(validate_unique=False)
    except ValidationError as exc:
        raise ApiError(model_error_keys(exc)) from exc
    level.save()
    return level


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
    user_admin_guard(admin=admin, user=user, himself=False)
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
    """Set a label's value and description, creating it when ``replace`` allows (AD-11)."""
    user_admin_guard(admin=admin, user=user, himself=False)
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
    """Change an existing label's value; its description only when one is given (AD-12)."""
    user_admin_guard(admin=admin, user=user, himself=False)
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
    """Remove a user's label; a private one recomputes level and state (AD-13)."""
    user_admin_guard(admin=admin, user=user, himself=False)
    label = _label_find(user=user, key=key, scope=scope)
    if label is None:
        raise ApiError("admin.label.doesnt_exist", 404)
    _label_audit(admin=admin, user=user, action="delete", label=label, request=request)
    label_delete(label=label)


@transaction.atomic
def data_storage_admin_delete(*, admin: User, user: User, title: str, request=None) -> None:
    """Delete a user's data storage and the ``<title>=recorded`` label it left (AD-07)."""
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


PROFILE_DECISIONS = (Profile.State.VERIFIED, Profile.State.REJECTED, Profile.State.DRAFTED)


@transaction.atomic
def profile_state_set(*, profile: Profile, state: str, actor: User, request=None) -> Profile:
    """An operator's decision on a submitted profile; the private ``profile`` label follows.

    Only the state moves (no personal data changes), so a verified ``document`` label is
    left as it is. Operators never decide on their own profile.
    """
    profile = Profile.objects.select_for_update().select_related("user").get(pk=profile.pk)
    user = profile.user
    user_admin_guard(admin=actor, user=user, key="admin.profiles.superadmin_change")
    if state not in PROFILE_DECISIONS:
        raise ApiError("state.inclusion")
    if profile.state != Profile.State.SUBMITTED:
        raise ApiError("admin.profiles.doesnt_exist_or_not_editable", 404)
    profile.state = state
    profile.save(update_fields=["state", "updated_at"])
    label_set(user=user, key="profile", value=state, scope=Label.Scope.PRIVATE)
    admin_activity_record(
        admin=actor,
        topic="profiles",
        action="update",
        target=user,
        request=request,
        data={
            "uid": user.uid,
            "profile_id": profile.pk,
            "state": state,
            "previous_state": "submitted",
        },
    )
    return profile


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
