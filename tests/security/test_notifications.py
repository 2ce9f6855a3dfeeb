"""Security notices by e-mail (en, ru): new-device login, password, 2FA, codes, keys, passkeys."""

import datetime
from http import HTTPStatus

import pytest
from django.utils import timezone

from accounts.models import User
from accounts.notifications import NOTICES
from activities.models import Activity
from tests.conftest import BROWSER_UA
from tests.resource_account.helpers import login, two_factor_on
from tests.security.authenticator import SoftAuthenticator
from tests.security.test_passkeys_api import register

pytestmark = pytest.mark.django_db

PASSWORD = "Correct-Horse-Battery-9"
NEW_PASSWORD = "Purple-Lantern-Orbit-42"
OTHER_UA = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15 Safari/605.1.15"


def subjects(mailoutbox, user) -> list[str]:
    return [m.subject for m in mailoutbox if m.to == [user.email]]


@pytest.fixture
def committing(api):
    """A second browser (another agent and address) whose requests commit."""
    return type(api)(HTTP_USER_AGENT=OTHER_UA, REMOTE_ADDR="198.51.100.7")


def test_new_device_login_is_notified_once(api, committing, make_user, mailoutbox):
    user = make_user()
    login(api, user)  # first login ever from this browser: new
    assert subjects(mailoutbox, user) == ["New Login"]

    login(api, user)  # the same browser and address again: seen
    assert len(subjects(mailoutbox, user)) == 1

    login(committing, user)  # another browser and address
    assert subjects(mailoutbox, user) == ["New Login"] * 2
    body = mailoutbox[-1].body
    assert "198.51.100.7" in body
    assert OTHER_UA in body
    assert "<html" in mailoutbox[-1].alternatives[0][0]


def test_a_device_not_seen_for_30_days_is_new_again(api, make_user, mailoutbox):
    user = make_user()
    login(api, user)
    Activity.objects.filter(user=user).update(
        created_at=timezone.now() - datetime.timedelta(days=31)
    )

    login(api, user)

    assert subjects(mailoutbox, user) == ["New Login"] * 2


def test_failed_logins_are_not_a_seen_device(api, committing, make_user, mailoutbox):
    user = make_user()
    committing.post("/api/v2/identity/sessions", {"email": user.email, "password": "wrong"})

    login(committing, user)

    assert subjects(mailoutbox, user) == ["New Login"]


def test_russian_user_gets_russian_notices(api, make_user, mailoutbox):
    user = make_user()
    user.data = '{"language": "ru"}'
    user.save(update_fields=["data"])

    login(api, user)

    assert subjects(mailoutbox, user) == ["Новый вход"]
    assert "IP-адрес: 203.0.113.10" in mailoutbox[-1].body


def test_password_change_is_notified(api, make_user, mailoutbox):
    user = make_user()
    csrf = login(api, user)
    mailoutbox.clear()

    response = api.put(
        "/api/v2/resource/users/password",
        {"old_password": PASSWORD, "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD},
        format="json",
        HTTP_X_CSRF_TOKEN=csrf,
    )

    assert response.status_code == HTTPStatus.CREATED
    # One e-mail says both: the change and the security lock it started.
    assert subjects(mailoutbox, user) == ["Your password was changed"]
    user.refresh_from_db()
    until = user.security_lock_until.isoformat()
    assert f"paused until {until} (UTC)" in mailoutbox[-1].body
    assert until in mailoutbox[-1].alternatives[0][0]


def test_password_change_in_russian_says_the_lock_too(api, make_user, mailoutbox):
    user = make_user()
    csrf = login(api, user)
    mailoutbox.clear()

    api.put(
        "/api/v2/resource/users/password",
        {
            "old_password": PASSWORD,
            "new_password": NEW_PASSWORD,
            "confirm_password": NEW_PASSWORD,
            "lang": "ru",
        },
        format="json",
        HTTP_X_CSRF_TOKEN=csrf,
    )

    assert subjects(mailoutbox, user) == ["Пароль изменён"]
    user.refresh_from_db()
    assert f"приостановлены до {user.security_lock_until.isoformat()}" in mailoutbox[-1].body


def test_password_reset_sends_one_email_with_the_lock(api, make_user, mailoutbox):
    from tests.accounts.conftest import last_token

    user = make_user()
    api.post("/api/v2/identity/users/password/generate_code", {"email": user.email})
    token = last_token(mailoutbox, "reset", to=user.email)
    mailoutbox.clear()

    response = api.post(
        "/api/v2/identity/users/password/confirm_code",
        {"reset_password_token": token, "password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD},
        format="json",
    )

    assert response.status_code == HTTPStatus.CREATED, response.content
    assert subjects(mailoutbox, user) == ["Your password was changed"]
    user.refresh_from_db()
    assert f"paused until {user.security_lock_until.isoformat()}" in mailoutbox[-1].body


def test_the_password_email_says_the_lock_only_when_one_started(
    api, make_user, mailoutbox, settings
):
    settings.BARONG_SECURITY_LOCK_HOURS = 0
    user = make_user()
    csrf = login(api, user)
    mailoutbox.clear()

    def change(old: str, new: str) -> None:
        body = {"old_password": old, "new_password": new, "confirm_password": new}
        response = api.put(
            "/api/v2/resource/users/password", body, format="json", HTTP_X_CSRF_TOKEN=csrf
        )
        assert response.status_code == HTTPStatus.CREATED, response.content

    change(PASSWORD, NEW_PASSWORD)
    settings.BARONG_SECURITY_LOCK_HOURS = 24
    change(NEW_PASSWORD, PASSWORD)

    assert subjects(mailoutbox, user) == ["Your password was changed"] * 2
    assert "paused" not in mailoutbox[0].body
    assert "paused until" in mailoutbox[1].body


def test_the_lock_event_is_still_recorded_for_upstreams(api, make_user):
    """Only the e-mail is merged: the Event API still carries the lock's own event, and
    the password event keeps Barong's record (the lock rides as an e-mail hint)."""
    from events.models import OutboxEvent

    user = make_user()
    csrf = login(api, user)

    api.put(
        "/api/v2/resource/users/password",
        {"old_password": PASSWORD, "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD},
        format="json",
        HTTP_X_CSRF_TOKEN=csrf,
    )

    lock = OutboxEvent.objects.get(routing_key="user.security_lock.started")
    assert lock.payload["record"]["reason"] == "password_changed"
    assert not lock.mail  # told in the password e-mail
    change = OutboxEvent.objects.get(routing_key="user.password.change")
    user.refresh_from_db()
    assert set(change.payload["record"]) == {"user", "language", "domain"}  # Barong's record
    assert change.context["lock_until"] == user.security_lock_until.isoformat()


def test_2fa_on_and_off_are_notified(
    make_user, clock, mailoutbox, django_capture_on_commit_callbacks
):
    from accounts.services.otp import otp_disable

    user = make_user()
    with django_capture_on_commit_callbacks(execute=True):
        two_factor_on(user, clock)
        otp_disable(user=user, code=clock.next_code(user))

    assert subjects(mailoutbox, user) == [
        "Two-factor authentication enabled",
        "Two-factor authentication disabled",  # says the security lock too
    ]
    disabled = mailoutbox[-1]
    lock_until = User.objects.get(pk=user.pk).security_lock_until.isoformat()
    assert f"paused until {lock_until}" in disabled.body
    assert lock_until in disabled.alternatives[0][0]


def test_recovery_code_use_is_notified_with_a_warning_when_few_are_left(
    api, auth_api, make_user, clock, mailoutbox, django_capture_on_commit_callbacks, settings
):
    settings.BARONG_RATE_LIMITS = False  # eight logins in a row
    user = two_factor_on(make_user(), clock)
    with django_capture_on_commit_callbacks(execute=True):
        codes = (
            auth_api(user)
            .post("/api/v2/resource/otp/recovery_codes", {"code": clock.next_code(user)})
            .json()["codes"]
        )
    body = {"email": user.email, "password": PASSWORD}
    for code in codes[:8]:
        response = api.post("/api/v2/identity/sessions", {**body, "recovery_code": code})
        assert response.status_code == HTTPStatus.OK

    used = [m for m in mailoutbox if m.subject == "A recovery code was used"]
    assert len(used) == 8
    assert "Codes left: 9." in used[0].body
    assert "generate a new set" not in used[0].body
    assert "Codes left: 2." in used[-1].body
    assert "generate a new set" in used[-1].body


def test_api_key_creation_is_notified(make_user, mailoutbox, django_capture_on_commit_callbacks):
    from apikeys.services import api_key_create

    user = make_user()
    with django_capture_on_commit_callbacks(execute=True):
        key, _ = api_key_create(user=user)

    assert subjects(mailoutbox, user) == ["New API key created"]
    assert key.kid in mailoutbox[-1].body


def test_passkey_added_is_notified(
    make_user, auth_api, mailoutbox, settings, django_capture_on_commit_callbacks
):
    settings.BARONG_WEBAUTHN_ORIGINS = ["http://localhost:8000"]
    user = make_user()
    with django_capture_on_commit_callbacks(execute=True):
        register(auth_api(user), SoftAuthenticator(), name="Work laptop")

    assert subjects(mailoutbox, user) == ["Passkey added"]
    assert "Work laptop" in mailoutbox[-1].body
    assert BROWSER_UA in mailoutbox[-1].body


def test_every_notice_has_a_mail_with_english_and_russian_templates():
    from django.template.loader import get_template

    from events.mailer import MAILS

    for notice, event in NOTICES.items():
        if notice == "security_lock_started":  # told by the e-mail of the change that started it
            assert event not in MAILS
            continue
        mail = MAILS[event]
        assert mail.template == notice
        assert set(mail.subjects) == {"en", "ru"}
        for lang in ("en", "ru"):
            for part in ("txt", "html"):
                get_template(f"emails/{notice}.{lang}.{part}")
