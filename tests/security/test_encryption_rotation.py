"""Rotating BARONG_ENCRYPTION_KEY: the old key in BARONG_ENCRYPTION_KEYS_PREVIOUS keeps
every TOTP seed and API-key secret working, ``manage.py encryption_reencrypt`` moves them
to the new key, and then the old key can go."""

import base64
import secrets
from http import HTTPStatus
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from accounts.models import OTPDevice
from accounts.services import user_otp_set
from accounts.services.otp import otp_device_confirm, otp_secret_create
from apikeys.models import APIKey
from apikeys.services import api_key_create, api_key_secret_context
from barong.crypto import column_reencrypt, decrypt, encrypt, reencrypted
from tests.accounts.conftest import STRONG_PASSWORD
from tests.authz.conftest import signed_headers
from tests.factories import totp_code

pytestmark = pytest.mark.django_db

ME = "/api/v2/auth/api/v2/barong/resource/users/me"
LOGIN = "/api/v2/identity/sessions"


def new_key() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()


@pytest.fixture
def old_key(settings):
    settings.BARONG_ENCRYPTION_KEY = new_key()
    settings.BARONG_ENCRYPTION_KEYS_PREVIOUS = []
    return settings.BARONG_ENCRYPTION_KEY


@pytest.fixture
def enrolled(old_key, make_user):
    """A 2FA user with an API key, both sealed under ``old_key``."""
    user = make_user(password=STRONG_PASSWORD)
    otp_secret_create(user=user)
    otp_device_confirm(user=user)
    user = user_otp_set(user=user, enabled=True)
    key, secret = api_key_create(user=user)
    return user, key, secret


def rotate(settings, *previous: str) -> str:
    settings.BARONG_ENCRYPTION_KEY = new_key()
    settings.BARONG_ENCRYPTION_KEYS_PREVIOUS = list(previous)
    return settings.BARONG_ENCRYPTION_KEY


def answers(api, user, key, secret, code: str) -> tuple[int, int]:
    """(a signed call, a 2FA login): they decrypt the key's secret and the TOTP seed."""
    signed = api.get(ME, **signed_headers(key.kid, secret))
    login = api.post(
        LOGIN, {"email": user.email, "password": STRONG_PASSWORD, "otp_code": code}, format="json"
    )
    OTPDevice.objects.filter(user=user).update(last_t=-1)  # the same code may be used again
    return signed.status_code, login.status_code


def works(api, user, key, secret) -> bool:
    return answers(api, user, key, secret, totp_code(user)) == (HTTPStatus.OK, HTTPStatus.OK)


def test_previous_keys_open_what_they_sealed_and_only_that(settings, old_key):
    sealed = encrypt("seed", context="otp:ID1")
    current = rotate(settings, old_key)

    assert decrypt(sealed, context="otp:ID1") == "seed"
    moved = reencrypted(sealed, context="otp:ID1")
    assert moved is not None
    assert reencrypted(moved, context="otp:ID1") is None  # already under the current key
    settings.BARONG_ENCRYPTION_KEYS_PREVIOUS = []
    assert decrypt(moved, context="otp:ID1") == "seed"
    with pytest.raises(ValueError, match="cannot be decrypted"):
        decrypt(sealed, context="otp:ID1")
    with pytest.raises(ValueError, match="cannot be decrypted"):  # the context still binds
        decrypt(moved, context="otp:ID2")
    assert current == settings.BARONG_ENCRYPTION_KEY


def test_rotation_keeps_2fa_and_api_keys_working_throughout(settings, api, enrolled):
    user, key, secret = enrolled
    old = settings.BARONG_ENCRYPTION_KEY
    assert works(api, user, key, secret)

    rotate(settings, old)  # step 1: new key current, old key previous
    assert works(api, user, key, secret)
    before = APIKey.objects.get(pk=key.pk).encrypted_secret

    out = StringIO()
    call_command("encryption_reencrypt", stdout=out)  # step 2

    assert out.getvalue().splitlines() == [
        "TOTP seeds: 1 re-encrypted, 0 already under the current key, 0 that no key opens",
        "API-key secrets: 1 re-encrypted, 0 already under the current key, 0 that no key opens",
    ]
    assert APIKey.objects.get(pk=key.pk).encrypted_secret != before
    assert secret not in out.getvalue()
    settings.BARONG_ENCRYPTION_KEYS_PREVIOUS = []  # step 3: the old key goes
    assert works(api, user, key, secret)

    again = StringIO()
    call_command("encryption_reencrypt", stdout=again)
    assert "TOTP seeds: 0 re-encrypted, 1 already" in again.getvalue()
    assert "API-key secrets: 0 re-encrypted, 1 already" in again.getvalue()


def test_without_the_previous_key_nothing_opens_and_the_command_says_so(settings, api, enrolled):
    user, key, secret = enrolled
    code = totp_code(user)  # what the user's authenticator shows; it still has the seed
    rotate(settings)  # the old key dropped at once: the mistake the procedure avoids

    # refused cleanly, as a wrong signature and a wrong code are
    assert answers(api, user, key, secret, code) == (HTTPStatus.UNAUTHORIZED, HTTPStatus.FORBIDDEN)
    sealed = (
        APIKey.objects.get(pk=key.pk).encrypted_secret,
        OTPDevice.objects.get(user=user).encrypted_key,
    )
    out = StringIO()
    with pytest.raises(CommandError, match="2 secrets open under no key"):
        call_command("encryption_reencrypt", stdout=out)

    assert "TOTP seeds: 0 re-encrypted, 0 already under the current key, 1 that no key opens" in (
        out.getvalue()
    )
    assert sealed == (  # nothing was written
        APIKey.objects.get(pk=key.pk).encrypted_secret,
        OTPDevice.objects.get(user=user).encrypted_key,
    )


def test_rows_are_moved_a_batch_at_a_time_and_changed_rows_are_left(settings, old_key, make_user):
    owner = user_otp_set(user=make_user(), enabled=True)
    keys = [api_key_create(user=owner)[0] for _ in range(5)]
    rotate(settings, old_key)
    dropped: list[str] = []
    raced = keys[2].kid

    def context_of(kid: str) -> str:
        if kid == raced:  # written by someone else between the read and the write
            replaced = encrypt("replaced", context=api_key_secret_context(kid))
            APIKey.objects.filter(kid=kid).update(encrypted_secret=replaced)
        return api_key_secret_context(kid)

    counts = column_reencrypt(
        APIKey.objects.filter(user=owner),
        column="encrypted_secret",
        fields=("kid",),
        context_of=context_of,
        changed=dropped.append,
        batch=2,
    )

    assert counts == {"reencrypted": 4, "current": 0, "unreadable": 0}
    assert sorted(dropped) == sorted(key.kid for key in keys if key.kid != raced)
    for key in APIKey.objects.filter(user=owner):
        assert reencrypted(key.encrypted_secret, context=api_key_secret_context(key.kid)) is None
    stored = APIKey.objects.get(kid=raced).encrypted_secret
    assert decrypt(stored, context=api_key_secret_context(raced)) == "replaced"
