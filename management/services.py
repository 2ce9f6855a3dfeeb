"""Writes made by the management API: the same services as every other path, audited.

Each write records an admin-category activity with topic ``management``. A signed call has
no operator behind it, so the row's user is the account acted on (as its target too) and
``data.signers`` names the services whose signatures were verified.
"""

from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone

from accounts.labels import label_normalize
from accounts.models import Label, User
from accounts.services import label_delete, label_set, user_create, user_data_set
from accounts.services.otp import otp_attempt
from activities.selectors import MANAGEMENT_TOPIC
from activities.services import admin_activity_record
from barong.api.errors import ApiError, model_error_keys
from kyc.events import profile_event_saved
from kyc.models import Phone, Profile
from kyc.phones import phone_number_parse
from kyc.services import document_create_many, profile_fields_clean, profile_labels_sync
from management.countersign import countersign_check
from management.jws import JWSError, jws_add_signature, jws_parse
from management.keys import ALGORITHM, management_signing_key
from management.params import ManagementError

BARONG_SIGNER = "barong"


def management_activity_record(
    *,
    user: User,
    action: str,
    signers: tuple[str, ...],
    request: HttpRequest | None = None,
    data: dict[str, Any] | None = None,
    result: str = "succeed",
) -> None:
    """The audit row of one management write, naming the signers who asked for it."""
    admin_activity_record(
        admin=user,
        topic=MANAGEMENT_TOPIC,
        action=action,
        target=user,
        request=request,
        data={"uid": user.uid, "signers": list(signers), **(data or {})},
        result=result,
    )


def _private_label(user: User, key: str) -> Label | None:
    return Label.objects.filter(
        user=user, key=label_normalize(key), scope=Label.Scope.PRIVATE
    ).first()


def _label_activity(
    label: Label, action: str, signers: tuple[str, ...], request: HttpRequest | None
) -> None:
    """The audit row of a private label write: which label, as it is (or was)."""
    management_activity_record(
        user=label.user,
        action=action,
        signers=signers,
        request=request,
        data={"key": label.key, "value": label.value, "scope": label.scope},
    )


@transaction.atomic
def label_private_create(
    *,
    user: User,
    key: str,
    value: str,
    description: str | None,
    signers: tuple[str, ...],
    request: HttpRequest | None = None,
) -> Label:
    """A new private label (state and level follow); an existing key is ``key.taken``."""
    if _private_label(user, key) is not None:
        raise ApiError("key.taken")
    label = label_set(
        user=user, key=key, value=value, scope=Label.Scope.PRIVATE, description=description
    )
    _label_activity(label, "label create", signers, request)
    return label


@transaction.atomic
def label_private_update(
    *,
    user: User,
    key: str,
    value: str,
    description: str | None,
    replace: bool,
    signers: tuple[str, ...],
    request: HttpRequest | None = None,
) -> Label:
    """Change a private label's value (and description when given), or create it if ``replace``."""
    found = _private_label(user, key)
    if found is None and not replace:
        raise ManagementError("label doesnt exist", 404)
    label = label_set(
        user=user,
        key=key,
        value=value,
        scope=Label.Scope.PRIVATE,
        description=description,
        keep_description=found is not None and description is None,
    )
    _label_activity(label, "label create" if found is None else "label update", signers, request)
    return label


@transaction.atomic
def label_private_delete(
    *, user: User, key: str, signers: tuple[str, ...], request: HttpRequest | None = None
) -> None:
    """Remove a private label; level and state are recomputed."""
    label = _private_label(user, key)
    if label is None:
        raise ManagementError("Record is not found", 404)
    _label_activity(label, "label delete", signers, request)
    label_delete(label=label)


def _referral(uid: str | None) -> User | None:
    if uid is None:
        return None
    referral = User.objects.filter(uid=uid.upper()).first()
    if referral is None:
        raise ApiError("referral.doesnt_exist")
    return referral


@transaction.atomic
def user_management_create(
    *,
    email: str,
    password: str,
    referral_uid: str | None,
    signers: tuple[str, ...],
    request: HttpRequest | None = None,
) -> User:
    """A pending member created by a back-end service (no confirmation e-mail, as Barong)."""
    user = user_create(email=email, password=password, referral=_referral(referral_uid))
    management_activity_record(user=user, action="user create", signers=signers, request=request)
    return user


def phone_import(*, user: User, number: str, validated_at: datetime | None) -> Phone:
    """A phone number from another system, verified there when ``validated_at`` is set."""
    parsed = phone_number_parse(number)
    if parsed is None:
        raise ApiError("number.invalid")
    taken = Phone.objects.filter(number=parsed.number)
    if validated_at is not None and taken.filter(validated_at__isnull=False).exists():
        raise ApiError("number.taken")
    if taken.filter(user=user).exists():
        raise ApiError("number.taken")
    phone = Phone(
        user=user, number=parsed.number, country=parsed.country, validated_at=validated_at
    )
    try:
        with transaction.atomic():
            phone.save()
    except IntegrityError as exc:
        raise ApiError("number.taken") from exc
    return phone


def profile_import(*, user: User, fields: dict[str, Any], state: str | None = None) -> Profile:
    """A profile reviewed elsewhere: given fields and state (drafted by default), labels follow."""
    values, keys = profile_fields_clean(fields)
    state = state or Profile.State.DRAFTED
    if state not in Profile.State.values:
        keys.append("state.inclusion")
    if keys:
        raise ApiError(keys)
    profile = Profile(user=user, state=state, **values)
    try:
        profile.full_clean(exclude=["user"])
    except ValidationError as exc:
        raise ApiError(model_error_keys(exc)) from exc
    profile.save()
    profile_event_saved(profile=profile, before=None)
    profile_labels_sync(profile=profile)
    return profile


@transaction.atomic
def user_management_import(
    *,
    email: str,
    password_digest: str,
    referral_uid: str | None,
    phone: str | None,
    profile: dict[str, Any],
    signers: tuple[str, ...],
    request: HttpRequest | None = None,
) -> User:
    """A Barong user moved over with their bcrypt digest (argon2id from their next login)."""
    if User.objects.filter(email=email.strip().lower()).exists():
        raise ManagementError("User already exists by this email", 422)
    user = user_create(
        email=email,
        password="",
        password_digest=password_digest,
        referral=_referral(referral_uid),
    )
    if phone is not None:
        phone_import(user=user, number=phone, validated_at=timezone.now())
    fields = dict(profile)
    state = fields.pop("state", None)
    profile_import(user=user, fields=fields, state=state)
    management_activity_record(user=user, action="user import", signers=signers, request=request)
    user.refresh_from_db()
    return user


@transaction.atomic
def user_management_data_set(
    *, user: User, data: str, signers: tuple[str, ...], request: HttpRequest | None = None
) -> User:
    """Replace the user's ``data`` JSON document."""
    user = user_data_set(user=user, data=data)
    management_activity_record(user=user, action="user update", signers=signers, request=request)
    return user


@transaction.atomic
def profile_management_create(
    *,
    user: User,
    fields: dict[str, Any],
    signers: tuple[str, ...],
    request: HttpRequest | None = None,
) -> Profile:
    """A profile pushed by a back-end service, in the state it gives (drafted by default)."""
    User.objects.select_for_update().get(pk=user.pk)
    fields = dict(fields)
    state = fields.pop("state", None)
    profile = profile_import(user=user, fields=fields, state=state)
    management_activity_record(
        user=user,
        action="profile create",
        signers=signers,
        request=request,
        data={"state": profile.state},
    )
    return profile


def document_management_create(
    *,
    user: User,
    doc_type: str,
    doc_number: str,
    doc_expire: date | None,
    metadata: str | None,
    upload: Any,
    update_labels: bool,
    signers: tuple[str, ...],
    request: HttpRequest | None = None,
) -> None:
    """A KYC document pushed by a back-end service; the usual checks on type, size and content."""
    with transaction.atomic():
        document_create_many(
            user=user,
            doc_type=doc_type,
            doc_number=doc_number,
            doc_expire=doc_expire.isoformat() if doc_expire else None,
            metadata=metadata,
            files=[upload],
            update_labels=update_labels,
        )
        management_activity_record(
            user=user,
            action="document create",
            signers=signers,
            request=request,
            data={"doc_type": doc_type, "update_labels": update_labels},
        )


def otp_sign(
    *,
    user: User,
    otp_code: str,
    jws: dict[str, Any],
    signers: tuple[str, ...],
    request: HttpRequest | None = None,
) -> dict[str, Any]:
    """The user confirms with their TOTP code (once); Barong adds its RS256 signature.

    Only a management call's payload is countersigned (management/countersign.py), with
    the key of management/keys.py: what this returns can never pass as a session token.
    A refused JWS does not use up the user's code.
    """
    if not user.otp:
        raise ManagementError("Account has not enabled 2FA", 422)

    def refused(reason: str) -> ManagementError:
        management_activity_record(
            user=user,
            action="otp sign",
            signers=signers,
            request=request,
            result="failed",
            data={"reason": reason},
        )
        return ManagementError(reason, 422)

    try:
        countersign_check(jws_parse(jws))
    except JWSError as exc:
        raise refused(f'JWT is invalid by the reason "{exc}"') from exc
    if not otp_attempt(user=user, code=otp_code, error_key="management.otp.too_many_requests"):
        raise refused("OTP code is invalid")
    pair = management_signing_key()
    signed = jws_add_signature(
        jws,
        kid=BARONG_SIGNER,
        private_key=pair.private_key,
        algorithm=ALGORITHM,
        header={"kid": pair.kid},
    )
    management_activity_record(user=user, action="otp sign", signers=signers, request=request)
    return signed
