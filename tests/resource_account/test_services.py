"""Rules of the own-account services that are awkward to reach over HTTP."""

import pytest

from accounts.models import OTPDevice
from accounts.services.otp import otp_qrcode_generate, otp_secret_create, otp_verify
from activities.models import Activity
from barong.api.errors import ApiError
from tests.factories import totp_code
from tests.resource_account.helpers import login, two_factor_on

pytestmark = pytest.mark.django_db


def test_otp_verify_is_true_once_per_valid_code(make_user, clock):
    """The contract the login flow relies on."""
    user = make_user()
    otp_secret_create(user=user)
    code = totp_code(user, clock.now)

    assert otp_verify(user=user, code=code, now=clock.now) is True
    assert otp_verify(user=user, code=code, now=clock.now) is False


def test_otp_verify_without_a_seed_is_false(make_user):
    assert otp_verify(user=make_user(), code="123456") is False


def test_otp_verify_refuses_a_seed_moved_to_another_user(make_user, clock):
    """The ciphertext is bound to its owner: copying it to another row does not work."""
    victim, attacker = make_user(), make_user()
    otp_secret_create(user=victim)
    otp_secret_create(user=attacker)
    stolen = OTPDevice.objects.get(user=victim).encrypted_key
    OTPDevice.objects.filter(user=attacker).update(encrypted_key=stolen)

    assert otp_verify(user=attacker, code=totp_code(victim, clock.now), now=clock.now) is False


def test_qrcode_generate_refuses_while_2fa_is_on_and_records_it(make_user, clock):
    user = two_factor_on(make_user(), clock)

    with pytest.raises(ApiError) as refused:
        otp_qrcode_generate(user=user)

    assert (refused.value.keys, refused.value.status_code) == (
        ["resource.otp.already_enabled"],
        400,
    )
    row = Activity.objects.filter(user=user, topic="otp").latest("id")
    assert (row.action, row.result) == ("request QR code for 2FA", "failed")


def test_cookie_calls_need_the_csrf_token(api, make_user):
    user = make_user()
    login(api, user)

    response = api.put(
        "/api/v2/resource/users/password",
        {
            "old_password": "Correct-Horse-Battery-9",
            "new_password": "Another-Fine-Horse-77",
            "confirm_password": "Another-Fine-Horse-77",
        },
        format="json",
    )

    assert response.status_code == 401
    assert response.json() == {"errors": ["authz.missing_csrf_token"]}
    user.refresh_from_db()
    assert user.check_password("Correct-Horse-Battery-9")


def test_2fa_history_is_visible_in_the_activity_list(auth_api, make_user, clock):
    user = make_user()
    client = auth_api(user)
    client.post("/api/v2/resource/otp/generate_qrcode")
    client.post("/api/v2/resource/otp/enable", {"code": totp_code(user, clock.now)})

    response = client.get("/api/v2/resource/users/activity/otp")

    assert [(r["action"], r["result"]) for r in response.json()] == [
        ("enable 2FA", "succeed"),
        ("request QR code for 2FA", "succeed"),
    ]
