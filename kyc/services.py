"""The KYC chain: labels decide level and state; flows and operators change labels here."""

import logging
import re
import unicodedata
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User, validate_json_text
from accounts.services import user_admin_guard, user_level_save
from activities.services import admin_activity_record
from barong.api.errors import ApiError, model_error_keys
from barong.ratelimit import rate_limit_hit
from kyc.countries import country_code
from kyc.documents import upload_check, upload_errors
from kyc.models import LABEL_RE, DataStorage, Document, Label, Level, Phone, Profile
from kyc.phones import PhoneNumber, PhoneProviderError, phone_number_parse, phone_provider

logger = logging.getLogger(__name__)


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
    """Set a label's value and description, creating it when ``replace`` allows (AD-11)."""
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
    """Change an existing label's value; its description only when one is given (AD-12)."""
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
    """Remove a user's label; a private one recomputes level and state (AD-13)."""
    _label_guard(admin=admin, user=user, scope=scope)
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


# ---------------------------------------------------------------- user-facing labels (RS-05…09)

# Labels Barong's own flows set (§8.1); a user may not take their keys, even as public labels.
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
    """The user's first label with that key, whatever its scope (Barong's lookup, §3 RS-06)."""
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
    return label


@transaction.atomic
def label_public_update(*, label: Label, value: str) -> Label:
    """Change the value of one of the user's own public labels (422 on an invalid value)."""
    _label_user_editable(label)
    label.value = label_normalize(value)
    try:
        label.full_clean(exclude=["user"], validate_constraints=False)
    except ValidationError as exc:
        raise ApiError(model_error_keys(exc)) from exc
    label.save(update_fields=["value", "updated_at"])
    return label


def label_public_delete(*, label: Label) -> None:
    """Remove one of the user's own public labels; private ones belong to flows and operators."""
    _label_user_editable(label)
    label_delete(label=label)


# ---------------------------------------------------------------- profiles (RS-10…12, AD-15)

PROFILE_FIELDS = (
    "first_name",
    "last_name",
    "dob",
    "address",
    "postcode",
    "city",
    "country",
    "metadata",
)
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
            text = _squish(text) if squish else text.strip()
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


def _profile_save(profile: Profile) -> Profile:
    try:
        profile.full_clean(exclude=["user"])
    except ValidationError as exc:
        raise ApiError(model_error_keys(exc)) from exc
    profile.save()
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
    return _profile_save(Profile(user=user, state=state, **values))


@transaction.atomic
def profile_update(*, profile: Profile, fields: dict[str, Any], confirm: bool = False) -> Profile:
    """Change only the given fields; ``confirm`` submits the profile for review."""
    User.objects.select_for_update().get(pk=profile.user_id)
    values, keys = profile_fields_clean(fields)
    if keys:
        raise ApiError(keys)
    for name, value in values.items():
        setattr(profile, name, value)
    if confirm:
        profile.state = Profile.State.SUBMITTED
    return _profile_save(profile)


@transaction.atomic
def profile_draft_update(*, user: User, fields: dict[str, Any], confirm: bool = False) -> Profile:
    """RS-12: edit the user's drafted profile, found under the user lock (404 when none)."""
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


# ---------------------------------------------------------------- documents (RS-13…14)

# A new upload never takes a verified user back to pending (Barong, §8.1).
DOCUMENT_KEPT_LABELS = ("verified",)
DATE_RE = re.compile(r"\A\d{4}-\d{2}-\d{2}\Z", re.ASCII)


def document_expire_parse(raw: object) -> date | None:
    """``doc_expire``: a YYYY-MM-DD date, required and not past when BARONG_REQUIRED_DOCS_EXPIRE."""
    parsed: date | None = None
    if isinstance(raw, datetime):
        parsed = raw.date()
    elif isinstance(raw, date):
        parsed = raw
    elif isinstance(raw, str) and raw.strip():
        try:
            parsed = date.fromisoformat(raw.strip()) if DATE_RE.match(raw.strip()) else None
        except ValueError:
            parsed = None
        if parsed is None and not settings.BARONG_REQUIRED_DOCS_EXPIRE:
            raise ApiError("resource.documents.expire_not_a_date")
    elif raw not in (None, "") and not settings.BARONG_REQUIRED_DOCS_EXPIRE:
        raise ApiError("resource.documents.expire_not_a_date")
    if settings.BARONG_REQUIRED_DOCS_EXPIRE:
        if parsed is None:
            raise ApiError("resource.documents.invalid_format")
        if parsed < timezone.now().date():
            raise ApiError("resource.documents.already_expired")
    return parsed


def _document_label_pending(user: User) -> None:
    label = Label.objects.filter(user=user, key="document", scope=Label.Scope.PRIVATE).first()
    if label is None or label.value not in DOCUMENT_KEPT_LABELS:
        label_set(user=user, key="document", value="pending", scope=Label.Scope.PRIVATE)


def document_create_many(
    *,
    user: User,
    doc_type: str,
    doc_number: str,
    doc_expire: object,
    metadata: str | None,
    files: list[File],
) -> list[Document]:
    """One document per file, all or none; the per-user limit is counted under the user lock."""
    expire = document_expire_parse(doc_expire)
    metadata = metadata if metadata not in ("", None) else None
    saved: list[str] = []
    try:
        with transaction.atomic():
            user = User.objects.select_for_update().get(pk=user.pk)
            count = Document.objects.filter(user=user).count()
            limit = settings.BARONG_DOC_NUM_LIMIT
            if count >= limit:
                raise ApiError("resource.documents.limit_reached", 400)
            if count + len(files) > limit:
                raise ApiError("resource.documents.limit_will_be_reached", 400)
            keys = _document_errors(user, doc_type, doc_number, expire, metadata, files)
            if keys:
                raise ApiError(keys)
            documents = []
            for file in files:
                checked = upload_check(file)
                document = Document(
                    user=user,
                    doc_type=doc_type,
                    doc_number=doc_number,
                    doc_expire=expire,
                    metadata=metadata,
                )
                _document_file_store(document, checked.name, file)
                saved.append(document.upload.name)
                document.save()
                documents.append(document)
            _document_label_pending(user)
            return documents
    except BaseException:
        for name in saved:  # the rows rolled back; their files must not stay behind
            _document_file_discard(name)
        raise


def _document_errors(
    user: User,
    doc_type: str,
    doc_number: str,
    expire: date | None,
    metadata: str | None,
    files: list[File],
) -> list[str]:
    keys: list[str] = []
    if doc_type not in settings.BARONG_DOCUMENT_TYPES:
        keys.append("doc_type.inclusion")
    probe = Document(
        user=user, doc_type=doc_type, doc_number=doc_number, doc_expire=expire, metadata=metadata
    )
    try:
        probe.full_clean(exclude=["user", "upload", "doc_type"])
    except ValidationError as exc:
        keys += model_error_keys(exc)
    if not files:
        keys.append("upload.blank")
    for file in files:
        keys += [key for key in upload_errors(file) if key not in keys]
    return keys


def _document_file_store(document: Document, name: str, file: File) -> None:
    try:
        document.upload.save(name, file, save=False)
    except Exception as exc:  # any storage back-end (disk, S3) failure; the cause is logged
        logger.exception("document upload not stored")
        raise ApiError("resource.documents.storage_error") from exc


def _document_file_discard(name: str) -> None:
    try:
        default_storage.delete(name)
    except Exception:  # cleanup is best effort; the failure is logged, not raised over the cause
        logger.exception("could not remove %s after a failed upload", name)


# ---------------------------------------------------------------- phones (RS-15…18)

PHONE_CODE_LIFETIME = timedelta(minutes=10)
PHONE_CODE_ATTEMPTS = 5  # wrong codes before the code is burned and a new send is needed


def _phone_number(raw: object) -> PhoneNumber:
    parsed = phone_number_parse(raw)
    if parsed is None:
        raise ApiError("resource.phone.invalid_num", 400)
    return parsed


def _phone_verified_exists(number: str) -> bool:
    return Phone.objects.filter(number=number, validated_at__isnull=False).exists()


def _phone_code_live(phone: Phone, now: datetime) -> bool:
    return bool(
        phone.code
        and phone.code_sent_at is not None
        and now - phone.code_sent_at < PHONE_CODE_LIFETIME
        and phone.attempts < PHONE_CODE_ATTEMPTS
    )


def _phone_code_deliver(phone: Phone, channel: str) -> str:
    try:
        return phone_provider().code_send(number=phone.number, code=phone.code, channel=channel)
    except PhoneProviderError as exc:
        raise ApiError(exc.key) from exc


def phone_create(*, user: User, phone_number: str, channel: str = "sms") -> tuple[Phone, str]:
    """Add a number and send it a code; answers the phone and the channel used."""
    parsed = _phone_number(phone_number)
    if _phone_verified_exists(parsed.number):
        raise ApiError("resource.phone.number_exist", 400)
    if Phone.objects.filter(user=user, number=parsed.number).exists():
        raise ApiError("resource.phone.exists", 400)
    rate_limit_hit("phone_code_account", user.uid, error_key="resource.phone.too_many_requests")
    with transaction.atomic():  # a code that could not be sent leaves no phone behind
        User.objects.select_for_update().get(pk=user.pk)
        phone = Phone(
            user=user,
            number=parsed.number,
            country=parsed.country,
            code=phone_provider().code_generate(),
            code_sent_at=timezone.now(),
        )
        try:
            phone.full_clean(exclude=["user"], validate_constraints=False)
        except ValidationError as exc:
            raise ApiError(model_error_keys(exc)) from exc
        try:
            with transaction.atomic():
                phone.save()
        except IntegrityError as exc:
            raise ApiError("resource.phone.exists", 400) from exc
        used = _phone_code_deliver(phone, channel)
    return phone, used


def phone_code_send(*, user: User, phone_number: str, channel: str = "sms") -> str:
    """Resend the outstanding code; an expired or burned one is replaced by a new code."""
    parsed = _phone_number(phone_number)
    if _phone_verified_exists(parsed.number):
        raise ApiError("resource.phone.number_exist", 400)
    if not Phone.objects.filter(user=user, number=parsed.number).exists():
        raise ApiError("resource.phone.doesnt_exist", 404)
    rate_limit_hit("phone_code_account", user.uid, error_key="resource.phone.too_many_requests")
    with transaction.atomic():
        User.objects.select_for_update().get(pk=user.pk)
        phone = Phone.objects.select_for_update().get(user=user, number=parsed.number)
        now = timezone.now()
        if not _phone_code_live(phone, now):
            phone.code = phone_provider().code_generate()
            phone.code_sent_at = now
            phone.attempts = 0
            phone.save(update_fields=["code", "code_sent_at", "attempts", "updated_at"])
        return _phone_code_deliver(phone, channel)


def phone_verify(*, user: User, phone_number: str, code: str) -> User:
    """A live code (10 minutes, 5 tries) verifies the number: private label ``phone:verified``."""
    parsed = _phone_number(phone_number)
    rate_limit_hit("phone_verify_account", user.uid, error_key="resource.phone.too_many_requests")
    if _phone_verified_exists(parsed.number):
        raise ApiError("resource.phone.number_exist", 400)
    if not Phone.objects.filter(user=user, number=parsed.number).exists():
        raise ApiError("resource.phone.doesnt_exist", 404)
    # A wrong code must stay counted, so this block commits before the error is raised.
    with transaction.atomic():
        User.objects.select_for_update().get(pk=user.pk)
        phone = Phone.objects.select_for_update().get(user=user, number=parsed.number)
        now = timezone.now()
        verified = _phone_code_live(phone, now) and phone_provider().code_check(
            number=phone.number, code=code, stored=phone.code
        )
        if verified:
            phone.validated_at, phone.code, phone.attempts = now, None, 0
            try:
                with transaction.atomic():
                    phone.save(update_fields=["validated_at", "code", "attempts", "updated_at"])
            except IntegrityError as exc:  # another account verified it a moment ago
                raise ApiError("resource.phone.number_exist", 400) from exc
            label_set(user=user, key="phone", value="verified", scope=Label.Scope.PRIVATE)
        elif phone.code:
            phone.attempts += 1
            if phone.attempts >= PHONE_CODE_ATTEMPTS:
                phone.code = None
            phone.save(update_fields=["attempts", "code", "updated_at"])
    if not verified:
        raise ApiError("resource.phone.verification_invalid", 404)
    user.refresh_from_db()
    return user


# ---------------------------------------------------------------- data storage (RS-27)

# Titles become private label keys: never one a flow, a level or a state trigger uses.
DATA_STORAGE_EXCLUDED_TITLES = ("document", "label", "profile", "phone", "user")
DATA_STORAGE_MAX_LENGTH = 5120


def data_storage_title_excluded(title: str) -> bool:
    """Barong's excluded titles, plus any whose ``<title>:recorded`` label would mean something
    (``email``, a level key, a state trigger such as ``banana`` → banned)."""
    key = label_normalize(title)
    return (
        key in DATA_STORAGE_EXCLUDED_TITLES
        or key.startswith(_state_trigger_prefixes())
        or _flow_key(key)
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
    key = label_normalize(title)
    if label_key_valid(key):  # Barong skips titles a label key cannot take
        label_set(user=user, key=key, value="recorded", scope=Label.Scope.PRIVATE)
    return storage


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
    """An operator corrects a submitted profile and may decide it (AD-15); audited.

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
    for name, value in values.items():
        setattr(profile, name, value)
    if state is not None:
        profile.state = state
    profile = _profile_save(profile)
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
