"""OTPDevice is a django-otp device in full: the framework's own tools verify codes on it."""

import time

import django_otp
import pytest

from accounts.models import OTPDevice
from accounts.services.otp import otp_device_confirm, otp_secret_create
from tests.factories import totp_code

pytestmark = pytest.mark.django_db


@pytest.fixture
def member(make_user):
    user = make_user()
    otp_secret_create(user=user)
    otp_device_confirm(user=user)
    return user


def test_match_token_finds_the_device_once_per_code(member):
    code = totp_code(member)

    assert django_otp.match_token(member, code) == OTPDevice.objects.get(user=member)
    assert django_otp.match_token(member, code) is None  # the step is used up


def test_verify_token_accepts_a_code_once_and_records_its_use(member):
    now = time.time()
    device = OTPDevice.objects.get(user=member)
    code = totp_code(member, now)

    assert device.verify_token(code, now=now) is True
    assert device.verify_token(code, now=now) is False
    device.refresh_from_db()
    assert device.last_t == int(now) // OTPDevice.STEP
    assert device.last_used_at is not None


def test_a_wrong_code_throttles_through_django_otp(member):
    now = time.time()
    device = OTPDevice.objects.get(user=member)
    wrong = f"{(int(totp_code(member, now)) + 1) % 10**6:06d}"

    assert device.verify_token(wrong, now=now) is False
    assert device.verify_is_allowed()[0] is False
    assert device.verify_token(totp_code(member, now), now=now) is False  # throttled
    OTPDevice.objects.filter(pk=device.pk).update(throttling_failure_timestamp=None)
    assert device.verify_token(totp_code(member, now), now=now) is True


@pytest.mark.parametrize("token", ["", "12345", "1234567", "12 456", "²23456", None, 123456.0])
def test_a_malformed_token_is_refused_without_counting_a_failure(member, token):
    device = OTPDevice.objects.get(user=member)

    assert device.verify_token(token) is False
    device.refresh_from_db()
    assert device.throttling_failure_count == 0


def test_a_seed_moved_to_another_users_device_does_not_verify(member, make_user):
    other = make_user()
    otp_secret_create(user=other)
    stolen = OTPDevice.objects.get(user=member).encrypted_key
    OTPDevice.objects.filter(user=other).update(encrypted_key=stolen)

    assert django_otp.match_token(other, totp_code(member)) is None
