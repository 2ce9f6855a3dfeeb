"""Operator decisions on KYC data (admin API and back office): documents, storage, profiles."""

from typing import Any

from django.db import transaction

from accounts.models import Label, User
from accounts.selectors import label_find
from accounts.services import KYC_DECISIONS, label_admin_upsert, label_delete, user_admin_guard
from activities.services import admin_activity_record
from barong.api.errors import ApiError
from kyc.events import profile_event_json
from kyc.models import DataStorage, Profile
from kyc.services.profiles import profile_fields_clean, profile_save


@transaction.atomic
def data_storage_admin_delete(*, admin: User, user: User, title: str, request=None) -> None:
    """Delete a user's data storage and the ``<title>=recorded`` label it left (a user
    ranked below the operator: the label may count for the level)."""
    user_admin_guard(admin=admin, user=user, action="delete")
    storage = DataStorage.objects.filter(user=user, title__iexact=title).first()
    if storage is None:
        raise ApiError("admin.storage.doesnt_exist", 404)
    stored_title = storage.title
    storage.delete()
    label = label_find(user=user, key=stored_title, scope=Label.Scope.PRIVATE)
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
    both answer it; an operator decides only for users ranked below it, never for itself.
    """
    if decision not in KYC_DECISIONS:
        raise ApiError("value.inclusion")
    user = User.objects.select_for_update().get(pk=user.pk)
    user_admin_guard(admin=admin, user=user)
    current = label_find(user=user, key="document", scope=Label.Scope.PRIVATE)
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


@transaction.atomic
def profile_admin_update(
    *, admin: User, profile: Profile, fields: dict[str, Any], request=None
) -> Profile:
    """An operator corrects a submitted profile and may decide it; audited.

    Same field rules as the user's own edits. An operator reviews only profiles of users
    ranked below it, never its own.
    """
    profile = Profile.objects.select_for_update().select_related("user").get(pk=profile.pk)
    user = profile.user
    user_admin_guard(admin=admin, user=user, prefix="admin.profiles", topic="profiles")
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
    profile = profile_save(profile, before=before, state=Profile.State.SUBMITTED)
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
