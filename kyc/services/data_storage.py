"""Data storage: a user's titled JSON records, one label each."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from accounts.labels import label_key_valid, label_normalize
from accounts.models import Label, User
from accounts.services import label_flow_key, label_set, label_state_trigger_prefixes
from barong.api.errors import ApiError, model_error_keys
from kyc.events import data_storage_event_created
from kyc.models import DataStorage

# ---------------------------------------------------------------- data storage

# Titles become private label keys: never one a flow, a level or a state trigger uses.
DATA_STORAGE_EXCLUDED_TITLES = ("document", "label", "profile", "phone", "user")
DATA_STORAGE_MAX_LENGTH = 5120


def data_storage_title_excluded(title: str) -> bool:
    """Barong's excluded titles, plus any whose ``<title>:recorded`` label would mean something
    (``email``, a level key, a state trigger such as ``banana`` → banned)."""
    key = label_normalize(title)
    return (
        key in DATA_STORAGE_EXCLUDED_TITLES
        or key.startswith(label_state_trigger_prefixes())
        or label_flow_key(key)
    )


@transaction.atomic
def data_storage_create(*, user: User, title: str, data: str) -> DataStorage:
    """Keep a JSON document under an allowed title, once per title; label ``<title>:recorded``."""
    user = User.objects.select_for_update().get(pk=user.pk)
    keys: list[str] = []
    if DataStorage.objects.filter(user=user, title__iexact=title).exists():
        keys.append("title.taken")
    if title not in settings.BARONG_USER_STORAGE_TITLES:
        keys.append("title.inclusion")
    if data_storage_title_excluded(title):
        keys.append("title.exclusion")
    storage = DataStorage(user=user, title=title, data=data)
    try:
        storage.full_clean(exclude=["user"], validate_constraints=False)
    except ValidationError as exc:
        keys += [key for key in model_error_keys(exc) if key not in keys]
    if len(data) > DATA_STORAGE_MAX_LENGTH:  # TextField max_length is not a model validator
        keys.append("data.too_long")
    if keys:
        raise ApiError(keys)
    try:
        with transaction.atomic():
            storage.save()
    except IntegrityError as exc:
        raise ApiError("title.taken") from exc
    data_storage_event_created(storage=storage)
    key = label_normalize(title)
    if label_key_valid(key):  # Barong skips titles a label key cannot take
        label_set(user=user, key=key, value="recorded", scope=Label.Scope.PRIVATE)
    return storage
