"""The KYC chain: labels decide level and state; flows and operators change labels here."""

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from accounts.models import User
from accounts.services import user_level_save
from barong.api.errors import ApiError, model_error_keys
from kyc.models import Label, Level


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
