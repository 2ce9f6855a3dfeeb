"""Phones: verification codes sent and checked, and the ``phone`` label."""

from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Label, User
from accounts.services import label_set
from barong.api.errors import ApiError, model_error_keys
from barong.ratelimit import rate_limit_hit
from kyc.models import Phone
from kyc.phones import PhoneNumber, PhoneProviderError, phone_number_parse, phone_provider

# ---------------------------------------------------------------- phones

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
