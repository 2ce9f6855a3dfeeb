"""Every event is recorded by the operation that owns it, in Barong's payload shape."""

import re
from datetime import timedelta
from http import HTTPStatus

import pytest
from django.utils import timezone

from accounts.models import User
from accounts.services import label_set
from tests.accounts.conftest import STRONG_PASSWORD
from tests.events.conftest import events, names
from tests.kyc.conftest import png

pytestmark = pytest.mark.django_db

USER_KEYS = {"uid", "email", "role", "level", "otp", "state", "created_at", "updated_at"}
ISO = re.compile(r"\A\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z\Z")


def only(name: str, after: int = 0) -> dict:
    found = events(name, after)
    assert len(found) == 1, (name, names(after))
    return found[0]


def assert_user(snapshot: dict, user: User, nested: bool = True) -> None:
    user.refresh_from_db()
    expected = USER_KEYS | ({"referral_uid"} if nested else set())
    assert set(snapshot) == expected
    assert snapshot["uid"] == user.uid
    assert snapshot["email"] == user.email
    assert (snapshot["level"], snapshot["state"], snapshot["otp"]) == (
        user.level,
        user.state,
        user.otp,
    )
    assert ISO.match(snapshot["created_at"])
    assert ISO.match(snapshot["updated_at"])


def test_sign_up_records_user_created_and_confirmation_token(api, db, settings):
    settings.BARONG_DOMAIN = "exchange.example"

    response = api.post(
        "/api/v2/identity/users",
        {"email": "new@example.com", "password": STRONG_PASSWORD, "lang": "ru"},
        format="json",
    )

    assert response.status_code == HTTPStatus.CREATED
    user = User.objects.get(email="new@example.com")
    assert names() == ["model.user.created", "system.user.email.confirmation.token"]
    created = only("model.user.created")
    assert set(created) == {"record", "name"}
    assert_user(created["record"], user, nested=False)  # a null referral_uid is dropped
    token = only("system.user.email.confirmation.token")
    assert token["name"] == "system.user.email.confirmation.token"
    assert set(token["record"]) == {"user", "language", "domain", "token"}
    assert token["record"]["user"]["referral_uid"] is None  # nested snapshots keep nulls
    assert (token["record"]["language"], token["record"]["domain"]) == ("RU", "exchange.example")


def test_referral_uid_is_in_the_created_record(api, make_user):
    referrer = make_user()

    api.post(
        "/api/v2/identity/users",
        {"email": "ref@example.com", "password": STRONG_PASSWORD, "refid": referrer.uid},
        format="json",
    )

    record = events("model.user.created")[-1]["record"]
    assert record["referral_uid"] == referrer.uid


def test_confirm_records_label_user_update_and_confirmed(api, make_user, mark):
    user = make_user(email="c@example.com", verified=False)
    api.post("/api/v2/identity/users/email/generate_code", {"email": user.email}, format="json")
    token = events("system.user.email.confirmation.token")[-1]["record"]["token"]
    start = mark()

    response = api.post(
        "/api/v2/identity/users/email/confirm_code", {"token": token}, format="json"
    )

    assert response.status_code == HTTPStatus.CREATED
    assert names(start) == [
        "model.user.updated",  # state pending → active
        "model.user.updated",  # level 0 → 1
        "model.label.created",  # after the user's, as Barong publishes it
        "system.user.email.confirmed",
    ]
    label = only("model.label.created", start)["record"]
    assert set(label) == {"id", "key", "value", "user"}  # a null description is dropped
    assert (label["key"], label["value"]) == ("email", "verified")
    assert (label["user"]["level"], label["user"]["state"]) == (1, "active")  # as it ends
    state, level = events("model.user.updated", start)
    assert state["changes"] == {"state": "pending"}
    assert state["record"]["state"] == "active"
    assert level["changes"] == {"level": 0}
    confirmed = only("system.user.email.confirmed", start)["record"]
    assert set(confirmed) == {"user", "language", "domain"}
    assert confirmed["language"] == "EN"
    assert_user(confirmed["user"], user)


def test_login_records_session_create(api, make_user, mark):
    user = make_user(email="login@example.com")
    start = mark()

    api.post(
        "/api/v2/identity/sessions",
        {"email": user.email, "password": STRONG_PASSWORD},
        format="json",
        HTTP_USER_AGENT="Agent/1.0",
    )

    record = only("system.session.create", start)["record"]
    assert set(record) == {"user", "user_ip", "user_agent", "new_device"}
    assert (record["user_ip"], record["user_agent"]) == ("203.0.113.10", "Agent/1.0")
    assert record["new_device"] is True  # this address and browser never succeeded before


def test_failed_login_records_nothing(api, make_user, mark):
    user = make_user()
    start = mark()

    api.post("/api/v2/identity/sessions", {"email": user.email, "password": "wrong-one-1A"})

    assert names(start) == []


def test_password_reset_records_token_then_reset(api, make_user, mark):
    from tests.accounts.conftest import NEW_PASSWORD

    user = make_user(email="r@example.com")
    start = mark()
    api.post("/api/v2/identity/users/password/generate_code", {"email": user.email})
    token = only("system.user.password.reset.token", start)["record"]["token"]

    api.post(
        "/api/v2/identity/users/password/confirm_code",
        {"reset_password_token": token, "password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD},
        format="json",
    )

    reset = only("system.user.password.reset", start)["record"]
    assert set(reset) == {"user", "language", "domain"}
    # The password is not in the snapshot: the update is reported with empty changes.
    assert only("model.user.updated", start)["changes"] == {}


def test_unknown_email_reset_records_nothing(api, db, mark):
    start = mark()

    api.post("/api/v2/identity/users/password/generate_code", {"email": "no@example.com"})

    assert names(start) == []


def test_password_change_and_self_delete(make_user, auth_api, mark):
    from tests.accounts.conftest import NEW_PASSWORD

    user = make_user()
    client = auth_api(user)
    start = mark()

    client.put(
        "/api/v2/resource/users/password",
        {
            "old_password": STRONG_PASSWORD,
            "new_password": NEW_PASSWORD,
            "confirm_password": NEW_PASSWORD,
            "lang": "ru",
        },
        format="json",
    )
    change = only("system.user.password.change", start)["record"]
    assert change["language"] == "RU"

    response = client.delete("/api/v2/resource/users/me", {"password": NEW_PASSWORD})

    assert response.status_code == HTTPStatus.OK
    deleted = only("system.user.account.deleted", start)["record"]
    assert set(deleted) == {"user"}
    assert deleted["user"]["state"] == "deleted"


def test_wrong_password_change_records_nothing(make_user, auth_api, mark):
    client = auth_api(make_user())
    start = mark()

    client.put(
        "/api/v2/resource/users/password",
        {"old_password": "Wrong-Horse-1", "new_password": "x" * 9, "confirm_password": "x" * 9},
    )

    assert names(start) == []


def test_profile_created_then_updated_with_changes(make_user, auth_api, mark):
    client = auth_api(make_user())
    start = mark()

    client.post("/api/v2/resource/profiles", {"first_name": "Ann", "dob": "1990-02-03"})
    created = only("model.profile.created", start)["record"]
    assert set(created) == {"user", "first_name", "dob", "created_at", "updated_at"}
    assert created["dob"] == "1990-02-03"

    client.put("/api/v2/resource/profiles", {"first_name": "Anna", "city": "Oslo"})

    updated = only("model.profile.updated", start)
    assert updated["record"]["first_name"] == "Anna"
    assert updated["record"]["city"] == "Oslo"
    assert updated["changes"] == {"first_name": "Ann"}  # city was null: not listed (Barong)


def test_profile_submitted_without_field_changes_is_still_an_update(make_user, auth_api, mark):
    client = auth_api(make_user())
    client.post("/api/v2/resource/profiles", {"first_name": "Ann"})
    start = mark()

    client.put("/api/v2/resource/profiles", {"confirm": True}, format="json")

    assert only("model.profile.updated", start)["changes"] == {}


def test_public_labels_created_updated_and_deleted(make_user, auth_api, mark):
    user = make_user()
    client = auth_api(user)
    start = mark()

    client.post("/api/v2/resource/labels", {"key": "color", "value": "blue"})
    client.patch("/api/v2/resource/labels/color", {"value": "blue"})  # same value: nothing
    client.patch("/api/v2/resource/labels/color", {"value": "green"})
    client.delete("/api/v2/resource/labels/color")

    assert names(start) == ["model.label.created", "model.label.updated"]
    updated = only("model.label.updated", start)
    assert updated["record"]["value"] == "green"
    assert updated["changes"] == {"value": "blue"}
    assert_user(updated["record"]["user"], user)


def test_document_upload_records_document_created(make_user, auth_api, mark):
    client = auth_api(make_user())
    start = mark()
    expire = (timezone.now() + timedelta(days=365)).date().isoformat()

    client.post(
        "/api/v2/resource/documents",
        {"doc_type": "Passport", "doc_number": "AB 1", "doc_expire": expire, "upload[]": [png()]},
        format="multipart",
    )

    record = only("model.document.created", start)["record"]
    assert set(record) == {
        "user",
        "upload",
        "doc_type",
        "doc_number",
        "doc_expire",
        "created_at",
        "updated_at",
    }
    assert record["doc_expire"] == expire
    assert "/" not in record["upload"]  # percent-encoded URL
    assert "%2F" in record["upload"]
    assert "model.label.created" in names(start)  # document: pending


def test_data_storage_records_created(make_user, auth_api, mark):
    client = auth_api(make_user())
    start = mark()

    client.post("/api/v2/resource/data_storage", {"title": "personal", "data": '{"a": 1}'})

    record = only("model.data_storage.created", start)["record"]
    assert (record["title"], record["data"]) == ("personal", '{"a": 1}')


def test_operator_verdict_on_documents_records_system_event(make_user, make_admin, auth_api, mark):
    user = make_user(labels={"document": "pending"})
    admin = auth_api(make_admin())
    start = mark()

    response = admin.post(
        "/api/v2/admin/users/labels/update",
        {"uid": user.uid, "key": "document", "value": "verified", "scope": "private"},
    )

    assert response.status_code in (HTTPStatus.OK, HTTPStatus.CREATED)
    assert "model.label.updated" in names(start)
    verified = only("system.document.verified", start)["record"]
    assert set(verified) == {"id", "key", "value", "description", "user"}
    assert (verified["key"], verified["value"]) == ("document", "verified")


def test_operator_state_and_role_changes_report_changes(make_user, make_admin, auth_api, mark):
    user = make_user()
    admin = auth_api(make_admin())
    start = mark()

    admin.post("/api/v2/admin/users/role", {"uid": user.uid, "role": "support"})

    updated = only("model.user.updated", start)
    assert updated["changes"] == {"role": "member"}
    assert updated["record"]["role"] == "support"


def test_setting_a_label_to_its_value_records_nothing(make_user, mark):
    user = make_user()
    start = mark()

    label_set(user=user, key="email", value="verified", scope="private")

    assert names(start) == []


def test_events_of_a_rolled_back_operation_are_not_kept(make_user, auth_api, mark):
    client = auth_api(make_user())
    start = mark()

    response = client.post("/api/v2/resource/data_storage", {"title": "personal", "data": "{"})

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert names(start) == []
