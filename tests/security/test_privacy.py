"""Personal data: the export (GET /resource/users/me/export) and the erasure after deletion."""

import datetime
import io
import json
from http import HTTPStatus

import pytest
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.utils import timezone

from accounts.models import Label, OTPDevice, User
from activities.models import Activity
from apikeys.models import APIKey
from apikeys.services import api_key_create
from kyc.models import DataStorage, Document, Phone, Profile
from kyc.services import data_storage_create, phone_create, profile_create
from tests.backoffice.conftest import document_add
from tests.resource_account.helpers import login, two_factor_on
from tests.security.authenticator import SoftAuthenticator
from tests.security.test_passkeys_api import register

pytestmark = pytest.mark.django_db

EXPORT = "/api/v2/resource/users/me/export"
ME = "/api/v2/resource/users/me"
PASSWORD = "Correct-Horse-Battery-9"


@pytest.fixture
def full_user(make_user, auth_api, clock, settings):
    """A user with something in every corner: KYC, keys, a passkey, 2FA, activity."""
    settings.BARONG_WEBAUTHN_ORIGINS = ["http://localhost:8000"]
    user = make_user()
    profile_create(
        user=user, fields={"first_name": "Ada", "last_name": "Lovelace", "city": "London"}
    )
    phone_create(user=user, phone_number="+44 07418084106")
    data_storage_create(user=user, title="personal", data='{"employer": "Analytical Engines"}')
    document_add(user)
    two_factor_on(user, clock)
    api_key_create(user=user)
    register(auth_api(user), SoftAuthenticator())
    user.refresh_from_db()
    return user


def test_export_holds_everything_and_no_secret(api, full_user, auth_api, clock):
    login(api, full_user, otp_code=clock.next_code(full_user))  # a login row, a live session

    response = auth_api(full_user).get(EXPORT)

    assert response.status_code == HTTPStatus.OK
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert body["account"]["uid"] == full_user.uid
    assert body["account"]["email"] == full_user.email
    assert body["profiles"][0]["first_name"] == "Ada"
    assert body["phones"][0]["number"] == "447418084106"
    assert "code" not in body["phones"][0]
    assert {"email", "otp"} <= {label["key"] for label in body["labels"]}
    assert body["data_storages"][0]["data"] == '{"employer": "Analytical Engines"}'
    document = body["documents"][0]
    assert document["doc_number"] == "AB 123456"
    assert document["upload"]["url"]
    assert len(body["api_keys"]) == 1
    assert len(body["passkeys"]) == 1
    assert body["recovery_codes_left"] == 0
    # The login's session and the Bearer clients' (each token is bound to a session).
    assert len(body["sessions"]) == 3
    assert {row["topic"] for row in body["activities"]} >= {"session", "otp"}
    text = response.content.decode()
    key = APIKey.objects.get(user=full_user)
    for secret in (
        full_user.password,
        OTPDevice.objects.get(user=full_user).encrypted_key,
        key.encrypted_secret,
    ):
        assert secret not in text
    assert "public_key" not in text
    assert "encrypted" not in text


def test_export_is_only_ever_the_callers_own(full_user, make_user, auth_api):
    other = make_user()

    body = auth_api(other).get(EXPORT, {"uid": full_user.uid}).json()

    assert body["account"]["uid"] == other.uid
    assert body["profiles"] == []
    assert full_user.email not in json.dumps(body)


def test_export_needs_a_login_and_is_rate_limited(api, make_user, auth_api, tight_limits):
    assert api.get(EXPORT).status_code == HTTPStatus.UNAUTHORIZED
    tight_limits(export_account="1/3600")
    client = auth_api(make_user())
    assert client.get("/api/v2/barong/resource/users/me/export").status_code == HTTPStatus.OK

    response = client.get(EXPORT)

    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert response.json() == {"errors": ["resource.user.too_many_requests"]}


# ---------------------------------------------------------------- erasure


def delete_self(client, user, clock) -> None:
    code = clock.next_code(user) if user.otp else None
    body = {"password": PASSWORD, **({"otp_code": code} if code else {})}
    response = client.delete(ME, body, format="json")
    assert response.status_code == HTTPStatus.OK, response.content


def age_deletion(user, days: int) -> None:
    Label.objects.filter(user=user, key="delete").update(
        created_at=timezone.now() - datetime.timedelta(days=days)
    )


def test_erasure_waits_for_the_delay_then_erases(
    full_user, auth_api, clock, settings, django_capture_on_commit_callbacks
):
    settings.BARONG_ERASURE_DELAY_DAYS = 30
    file_name = Document.objects.get(user=full_user).upload.name
    assert default_storage.exists(file_name)
    delete_self(auth_api(full_user), full_user, clock)
    age_deletion(full_user, 29)

    call_command("erase_deleted_users", stdout=io.StringIO())
    assert Profile.objects.filter(user=full_user).exists()  # too early

    age_deletion(full_user, 31)
    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("erase_deleted_users", stdout=out)

    assert "erased 1 user(s)" in out.getvalue()
    user = User.objects.get(pk=full_user.pk)
    assert user.email == f"{user.uid.lower()}@erased.invalid"
    assert not user.has_usable_password()
    assert user.state == "deleted"
    for model in (Profile, Phone, Document, DataStorage, APIKey, OTPDevice):
        assert not model.objects.filter(user=user).exists(), model
    assert not user.webauthn_credentials.exists()
    assert not default_storage.exists(file_name)
    rows = Activity.objects.filter(user=user).exclude(action="erase personal data")
    assert rows.exists()
    assert set(rows.values_list("user_ip", "user_agent", "data").distinct()) == {("", "", None)}
    assert Activity.objects.filter(user=user, action="erase personal data").exists()
    # a second run finds nothing more to do
    out = io.StringIO()
    call_command("erase_deleted_users", stdout=out)
    assert "erased 0 user(s)" in out.getvalue()


def test_periodic_task_erases_and_is_scheduled(make_user, auth_api, clock, settings):
    from privacy.tasks import users_erase_due_task

    assert settings.CELERY_BEAT_SCHEDULE["privacy-erase-deleted-users"]["task"] == (
        "privacy.tasks.users_erase_due_task"
    )
    user = make_user()
    delete_self(auth_api(user), user, clock)
    age_deletion(user, 31)

    assert users_erase_due_task.delay().get() == 1
    assert User.objects.get(pk=user.pk).email.endswith("@erased.invalid")


def test_active_users_are_never_erased(make_user):
    user = make_user()
    Label.objects.create(user=user, key="delete", value="by_admin", scope="public")

    call_command("erase_deleted_users", stdout=io.StringIO())
    with pytest.raises(Exception, match="not deleted"):
        call_command("erase_deleted_users", uid=user.uid, stdout=io.StringIO())

    assert User.objects.get(pk=user.pk).email == user.email


def test_erased_user_cannot_log_in_and_their_email_is_free(api, make_user, auth_api, clock):
    user = make_user()
    email = user.email
    delete_self(auth_api(user), user, clock)

    call_command("erase_deleted_users", uid=user.uid, stdout=io.StringIO())

    response = api.post("/api/v2/identity/sessions", {"email": email, "password": PASSWORD})
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json() == {"errors": ["identity.session.invalid_params"]}
    assert make_user(email=email).email == email


def test_dry_run_lists_without_erasing(make_user, auth_api, clock):
    user = make_user()
    delete_self(auth_api(user), user, clock)
    age_deletion(user, 40)
    out = io.StringIO()

    call_command("erase_deleted_users", dry_run=True, stdout=out)

    assert out.getvalue().split() == [user.uid]
    assert User.objects.get(pk=user.pk).email == user.email
