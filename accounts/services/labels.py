"""Level rows and the labels a user sets on themselves (public scope, never a reserved key)."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from accounts.events import label_event_json, label_event_saved
from accounts.labels import label_normalize
from accounts.models import Label, Level, User
from accounts.services.users import label_delete
from barong.api.errors import ApiError, model_error_keys


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


# ---------------------------------------------------------------- the user's own public labels

# Labels Barong's own flows set; a user may not take their keys, even as public labels.
FLOW_LABEL_KEYS = ("email", "phone", "profile", "document", "otp")


def label_state_trigger_prefixes() -> tuple[str, ...]:
    prefixes = set(settings.BARONG_RESERVED_LABEL_KEYS)
    for trigger_prefixes in settings.BARONG_STATE_TRIGGERS.values():
        prefixes.update(trigger_prefixes)
    return tuple(sorted(prefixes))


def label_flow_key(key: str) -> bool:
    """A key a flow or a level row gives meaning to (``email``, ``phone``, ``document``…)."""
    return key in FLOW_LABEL_KEYS or Level.objects.filter(key=key).exists()


def label_key_reserved(key: str) -> bool:
    """Operator keys (state-trigger prefixes), flow and level keys, data-storage titles."""
    key = label_normalize(key)
    titles = {label_normalize(title) for title in settings.BARONG_USER_STORAGE_TITLES}
    return key.startswith(label_state_trigger_prefixes()) or key in titles or label_flow_key(key)


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
