"""Profiles: the user's identity fields, cleaned, and the ``profile`` label they drive."""

import re
import unicodedata
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.labels import label_squish
from accounts.models import Label, User, validate_json_text
from accounts.services import label_set
from barong.api.errors import ApiError, model_error_keys
from kyc.countries import country_code
from kyc.events import profile_event_json, profile_event_saved
from kyc.models import PROFILE_FIELDS, Profile

# ---------------------------------------------------------------- profiles

# Python's \w is Unicode-aware: letters and digits of every script, and "_".
NAME_RE = re.compile(r"\A[\w\s'-]+\Z")
POSTCODE_RE = re.compile(r"\A[\w\s-]+\Z")
ADDRESS_RE = re.compile(r"\A[\w\s\-,.;/:#\"\\&'()]+\Z")
PROFILE_TEXT_RULES = {  # field: (pattern, min length, squish)
    "first_name": (NAME_RE, 1, True),
    "last_name": (NAME_RE, 1, True),
    "address": (ADDRESS_RE, 1, False),
    "postcode": (POSTCODE_RE, 2, True),
    "city": (NAME_RE, 1, True),
}
DOB_EARLIEST = date(1900, 1, 1)


def profile_fields_clean(fields: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Normalise the given profile fields; answers (values, model keys of every broken rule)."""
    values: dict[str, Any] = {}
    keys: list[str] = []
    for name in PROFILE_FIELDS:
        if name not in fields:
            continue
        raw = fields[name]
        if name == "dob":
            if raw is not None and not (DOB_EARLIEST <= raw <= timezone.now().date()):
                keys.append("dob.invalid")  # in the future, or no living person's
            values[name] = raw
            continue
        text = unicodedata.normalize("NFC", "" if raw is None else str(raw))
        if name in PROFILE_TEXT_RULES:
            pattern, shortest, squish = PROFILE_TEXT_RULES[name]
            text = label_squish(text) if squish else text.strip()
            if text:
                if len(text) > 255:
                    keys.append(f"{name}.too_long")
                elif len(text) < shortest:
                    keys.append(f"{name}.too_short")
                elif not pattern.match(text):
                    keys.append(f"{name}.invalid")
        elif name == "country":
            text = text.strip()
            if text:
                code = country_code(text)
                if code is None:
                    keys.append("country.invalid")
                text = code or text
        elif name == "metadata" and text.strip():
            try:
                validate_json_text(text)
            except ValidationError:
                keys.append("metadata.invalid_format")
        values[name] = text or None
    return values, keys


def profile_labels_sync(*, profile: Profile) -> None:
    """Private ``profile`` = state; a verified document must be reviewed again (``replaced``)."""
    label_set(user=profile.user, key="profile", value=profile.state, scope=Label.Scope.PRIVATE)
    document = Label.objects.filter(
        user=profile.user, key="document", scope=Label.Scope.PRIVATE
    ).first()
    if document is not None and document.value == "verified":
        label_set(user=profile.user, key="document", value="replaced", scope=Label.Scope.PRIVATE)


def profile_save(
    profile: Profile, before: dict[str, Any] | None = None, state: str | None = None
) -> Profile:
    try:
        profile.full_clean(exclude=["user"])
    except ValidationError as exc:
        raise ApiError(model_error_keys(exc)) from exc
    profile.save()
    profile_event_saved(profile=profile, before=before, state_moved=state != profile.state)
    profile_labels_sync(profile=profile)
    return profile


@transaction.atomic
def profile_create(*, user: User, fields: dict[str, Any], confirm: bool = False) -> Profile:
    """A new profile (submitted when confirmed); one drafted or submitted profile at a time."""
    user = User.objects.select_for_update().get(pk=user.pk)
    values, keys = profile_fields_clean(fields)
    open_states = [Profile.State.DRAFTED, Profile.State.SUBMITTED]
    if Profile.objects.filter(user=user, state__in=open_states).exists():
        keys.append("state.exists")
    if keys:
        raise ApiError(keys)
    state = Profile.State.SUBMITTED if confirm else Profile.State.DRAFTED
    return profile_save(Profile(user=user, state=state, **values))


@transaction.atomic
def profile_update(*, profile: Profile, fields: dict[str, Any], confirm: bool = False) -> Profile:
    """Change only the given fields; ``confirm`` submits the profile for review."""
    User.objects.select_for_update().get(pk=profile.user_id)
    values, keys = profile_fields_clean(fields)
    if keys:
        raise ApiError(keys)
    before, previous_state = profile_event_json(profile), profile.state
    for name, value in values.items():
        setattr(profile, name, value)
    if confirm:
        profile.state = Profile.State.SUBMITTED
    return profile_save(profile, before=before, state=previous_state)


@transaction.atomic
def profile_draft_update(*, user: User, fields: dict[str, Any], confirm: bool = False) -> Profile:
    """Edit the user's drafted profile, found under the user lock (404 when none)."""
    User.objects.select_for_update().get(pk=user.pk)
    profile = (
        Profile.objects.select_related("user")
        .filter(user=user, state=Profile.State.DRAFTED)
        .order_by("-id")
        .first()
    )
    if profile is None:
        raise ApiError("resource.profile.doesnt_exist_or_not_editable", 404)
    return profile_update(profile=profile, fields=fields, confirm=confirm)
