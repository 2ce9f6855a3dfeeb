"""Labels decide a user's level and state; flows and users change labels here."""

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from accounts.events import document_label_event, label_event_json, label_event_saved
from accounts.models import User
from accounts.services import user_level_save
from barong.api.errors import ApiError, model_error_keys
from kyc.models import LABEL_RE, Label, Level


def _squish(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def label_normalize(text: object) -> str:
    """Barong lower-cases and squishes label keys and values before validating them."""
    return _squish(str(text)).lower()


def user_level_compute(*, private: dict[str, str], levels: list[Level]) -> int:
    """Highest N such that levels 1…N each have their private label (walk stops at a gap)."""
    level = 0
    for row in levels:
        if private.get(row.key) != row.value:
            break
        level = row.id
    return level


def user_state_compute(*, private: dict[str, str]) -> str:
    """pending → active on activation labels; trigger prefixes override (private labels only)."""
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
    state = user_state_compute(private=private)
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
    label.user = user  # the locked row: events show the level and state it ends with
    before = label_event_json(label) if label.pk else None
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
    label_event_saved(label=label, before=before)
    if scope == Label.Scope.PRIVATE:
        user_level_sync(user=user)
        document_label_event(label=label)
    return label


@transaction.atomic
def label_delete(*, label: Label) -> None:
    """Remove a label; removing a private one recomputes level and state."""
    user = User.objects.select_for_update().get(pk=label.user_id)
    private = label.scope == Label.Scope.PRIVATE
    label_id = label.pk
    label.delete()
    if private:
        user_level_sync(user=user)
        label.pk, label.user = label_id, user  # the event names the removed label
        document_label_event(label=label)


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


# ---------------------------------------------------------------- user-facing labels

# Labels Barong's own flows set; a user may not take their keys, even as public labels.
FLOW_LABEL_KEYS = ("email", "phone", "profile", "document", "otp")


def _state_trigger_prefixes() -> tuple[str, ...]:
    prefixes = set(settings.BARONG_RESERVED_LABEL_KEYS)
    for trigger_prefixes in settings.BARONG_STATE_TRIGGERS.values():
        prefixes.update(trigger_prefixes)
    return tuple(sorted(prefixes))


def _flow_key(key: str) -> bool:
    """A key a flow or a level row gives meaning to (``email``, ``phone``, ``document``…)."""
    return key in FLOW_LABEL_KEYS or Level.objects.filter(key=key).exists()


def label_key_reserved(key: str) -> bool:
    """Operator keys (state-trigger prefixes), flow and level keys, data-storage titles."""
    key = label_normalize(key)
    titles = {label_normalize(title) for title in settings.BARONG_USER_STORAGE_TITLES}
    return key.startswith(_state_trigger_prefixes()) or key in titles or _flow_key(key)


def label_key_valid(key: str) -> bool:
    """A normalised key a label can take (the model's rules: 3-255 of ``a-z 0-9 _ -``)."""
    return bool(LABEL_RE.regex.match(key)) and 3 <= len(key) <= 255


def label_user_find(*, user: User, key: str) -> Label | None:
    """The user's first label with that key, whatever its scope (Barong's lookup)."""
    key = label_normalize(key)
    if not label_key_valid(key):  # no such label; NUL in a URL would break a PostgreSQL query
        return None
    return Label.objects.filter(user=user, key=key).order_by("id").first()


def _label_user_editable(label: Label) -> None:
    if label.scope != Label.Scope.PUBLIC:
        raise ApiError("resource.labels.private", 400)
    if label_key_reserved(label.key):
        raise ApiError("key.reserved")


@transaction.atomic
def label_public_create(*, user: User, key: str, value: str) -> Label:
    """A user tags themselves: public scope only, never a reserved key, key unique per scope."""
    user = User.objects.select_for_update().get(pk=user.pk)
    label = Label(user=user, key=label_normalize(key), value=label_normalize(value))
    try:
        label.full_clean(exclude=["user"], validate_constraints=False)
    except ValidationError as exc:
        raise ApiError(model_error_keys(exc)) from exc
    if label_key_reserved(label.key):
        raise ApiError("key.reserved")
    if Label.objects.filter(user=user, key=label.key, scope=Label.Scope.PUBLIC).exists():
        raise ApiError("key.taken")
    try:
        with transaction.atomic():
            label.save()
    except IntegrityError as exc:
        raise ApiError("key.taken") from exc
    label_event_saved(label=label, before=None)
    return label


@transaction.atomic
def label_public_update(*, label: Label, value: str) -> Label:
    """Change the value of one of the user's own public labels (422 on an invalid value)."""
    _label_user_editable(label)
    before = label_event_json(label)
    label.value = label_normalize(value)
    try:
        label.full_clean(exclude=["user"], validate_constraints=False)
    except ValidationError as exc:
        raise ApiError(model_error_keys(exc)) from exc
    label.save(update_fields=["value", "updated_at"])
    label_event_saved(label=label, before=before)
    return label


def label_public_delete(*, label: Label) -> None:
    """Remove one of the user's own public labels; private ones belong to flows and operators."""
    _label_user_editable(label)
    label_delete(label=label)
