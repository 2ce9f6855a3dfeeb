"""Management users: get, list, create, import, update, and profiles (2.4.17)."""

import json
import time
from http import HTTPStatus

import bcrypt
import pytest

from accounts.models import Label, User
from activities.models import Activity
from kyc.models import Phone, Profile
from tests.entities import USER_WITH_KYC, USER_WITH_PROFILE

DIGEST = bcrypt.hashpw(b"Old-Barong-Pass-1", bcrypt.gensalt(4)).decode().replace("$2b$", "$2a$")


@pytest.fixture
def member(make_user):
    return make_user(email="member@example.com")


# ---------------------------------------------------------------- users/get


def test_get_by_uid_email_and_phone(mgmt, member):
    Phone.objects.create(user=member, number="447418084106", country="GB")
    for data in (
        {"uid": member.uid},
        {"uid": member.uid.lower()},
        {"email": "MEMBER@example.com"},
        {"phone_num": "+44 7418 084106"},
    ):
        response = mgmt("users/get", data)
        assert response.status_code == HTTPStatus.CREATED, data
        assert response.json()["uid"] == member.uid
        assert set(response.json()) == set(USER_WITH_KYC)


@pytest.mark.parametrize(
    ("data", "status", "error"),
    [
        ({}, 422, "uid, email, phone_num are missing, exactly one parameter must be provided"),
        ({"uid": "a", "email": "b"}, 422, "uid, email are mutually exclusive"),
        ({"uid": ""}, 422, "uid is empty"),
        ({"uid": "ID0000000000"}, 404, "Record is not found"),
        ({"email": "nobody@example.com"}, 404, "Record is not found"),
        ({"phone_num": "12345"}, 404, "Record is not found"),
        ({"uid": ["x"]}, 422, "uid is invalid"),
    ],
)
def test_get_errors(mgmt, db, data, status, error):
    response = mgmt("users/get", data)
    assert response.status_code == status
    assert response.json() == {"error": error}


# ---------------------------------------------------------------- users/list


def test_list_users_paginated_and_extended(mgmt, make_user):
    users = [make_user() for _ in range(3)]
    response = mgmt("users/list", {"limit": 2})
    assert response.status_code == HTTPStatus.OK
    assert [u["uid"] for u in response.json()] == [users[0].uid, users[1].uid]
    assert response["Total"] == "3"
    extended = mgmt("users/list", {"extended": True, "page": 2, "limit": 2})
    assert [u["uid"] for u in extended.json()] == [users[2].uid]
    assert set(extended.json()[0]) == set(USER_WITH_PROFILE)


def test_list_users_time_range(mgmt, make_user):
    make_user()
    now = int(time.time())
    assert len(mgmt("users/list", {"from": now - 60, "to": now + 60}).json()) == 1
    assert mgmt("users/list", {"from": now + 60}).json() == []
    assert mgmt("users/list", {"range": "updated", "to": now - 60}).json() == []


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"range": "deleted"}, "range Non positive page"),
        ({"extended": "perhaps"}, "extended Non boolean extended value"),
        ({"limit": 0, "page": -1}, "page non_positive_page, limit invalid_limit"),
        ({"from": "yesterday"}, "from is invalid"),
    ],
)
def test_list_users_errors(mgmt, db, data, error):
    response = mgmt("users/list", data)
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {"error": error}


# ---------------------------------------------------------------- users (create)


def test_create_user(mgmt, member):
    response = mgmt(
        "users",
        {"email": "New@Example.com", "password": "Fai5aesoLEcx-strong", "referral_uid": member.uid},
        signers=("alex", "eve"),
    )
    assert response.status_code == HTTPStatus.CREATED, response.content
    body = response.json()
    assert set(body) == set(USER_WITH_PROFILE)
    assert body["email"] == "new@example.com"
    assert body["referral_uid"] == member.uid
    assert body["state"] == "pending"
    user = User.objects.get(uid=body["uid"])
    assert user.check_password("Fai5aesoLEcx-strong")
    row = Activity.objects.get(category="admin", topic="management", target_uid=user.uid)
    assert json.loads(row.data)["signers"] == ["alex", "eve"]


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({}, "email is missing, email is empty, password is missing, password is empty"),
        ({"email": "bad_email", "password": "password"}, ["Email is invalid", "Password weak"]),
        (
            {"email": "member@example.com", "password": "Fai5aesoLEcx-strong"},
            ["Email has already been taken"],
        ),
        (
            {"email": "x@example.com", "password": "Fai5aesoLEcx-strong", "referral_uid": "IDX"},
            ["Referral doesnt exist"],
        ),
    ],
)
def test_create_user_errors(mgmt, member, data, error):
    before = User.objects.count()
    response = mgmt("users", data)
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {"error": error}
    assert User.objects.count() == before


# ---------------------------------------------------------------- users/import


def test_import_user_with_digest_phone_and_profile(mgmt, api, db, settings):
    settings.PASSWORD_HASHERS = [
        "accounts.hashers.BarongArgon2Hasher",
        "accounts.hashers.BarongBcryptHasher",
    ]
    response = mgmt(
        "users/import",
        {
            "email": "old@example.com",
            "password_digest": DIGEST,
            "phone": "+447418084106",
            "first_name": "Ada",
            "last_name": "Lovelace",
            "dob": "1990-12-10",
            "country": "GB",
            "state": "verified",
        },
    )
    assert response.status_code == HTTPStatus.CREATED, response.content
    body = response.json()
    assert set(body) == set(USER_WITH_PROFILE)
    assert body["profiles"][0]["first_name"] == "Ada"
    assert body["profiles"][0]["state"] == "verified"
    user = User.objects.get(uid=body["uid"])
    assert user.password.startswith("barong_bcrypt$$2a$04$")
    phone = Phone.objects.get(user=user)
    assert phone.validated_at is not None
    assert Label.objects.filter(user=user, key="profile", value="verified").exists()

    login = api.post(
        "/api/v2/identity/sessions", {"email": "old@example.com", "password": "Old-Barong-Pass-1"}
    )
    assert login.status_code == HTTPStatus.OK, login.content
    user.refresh_from_db()
    assert user.password.startswith("argon2$argon2id$")  # upgraded at the first login


def test_import_without_profile_fields_creates_a_draft_as_barong(mgmt, db):
    response = mgmt("users/import", {"email": "bare@example.com", "password_digest": DIGEST})
    assert response.status_code == HTTPStatus.CREATED
    assert [p["state"] for p in response.json()["profiles"]] == ["drafted"]


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (
            {},
            "email is missing, email is empty, password_digest is missing, "
            "password_digest is empty",
        ),
        ({"email": "a@example.com", "password_digest": "plain"}, ["Password digest is invalid"]),
        (
            {"email": "a@example.com", "password_digest": DIGEST, "phone": "12345"},
            ["Number is invalid"],
        ),
        (
            {"email": "a@example.com", "password_digest": DIGEST, "country": "Atlantis"},
            ["Country is invalid"],
        ),
        (
            {"email": "a@example.com", "password_digest": DIGEST, "dob": "yesterday"},
            "dob is invalid",
        ),
        (
            {"email": "a@example.com", "password_digest": DIGEST, "state": "approved"},
            ["State is not included in the list"],
        ),
        (
            {"email": "member@example.com", "password_digest": DIGEST},
            "User already exists by this email",
        ),
    ],
)
def test_import_errors_leave_nothing_behind(mgmt, member, data, error):
    before = (User.objects.count(), Phone.objects.count(), Profile.objects.count())
    response = mgmt("users/import", data)
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {"error": error}
    assert (User.objects.count(), Phone.objects.count(), Profile.objects.count()) == before


def test_import_verified_phone_of_another_user_is_taken(mgmt, member):
    Phone.objects.create(
        user=member, number="447418084106", country="GB", validated_at="2020-01-01T00:00:00Z"
    )
    response = mgmt(
        "users/import",
        {"email": "b@example.com", "password_digest": DIGEST, "phone": "447418084106"},
    )
    assert response.json() == {"error": ["Number has already been taken"]}
    assert not User.objects.filter(email="b@example.com").exists()


# ---------------------------------------------------------------- users/update


def test_update_user_data(mgmt, member):
    response = mgmt("users/update", {"uid": member.uid, "data": '{"nationality":"us"}'})
    assert response.status_code == HTTPStatus.CREATED
    assert response.json()["data"] == '{"nationality":"us"}'
    member.refresh_from_db()
    assert json.loads(member.data) == {"nationality": "us"}


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({}, "uid is missing, uid is empty, data is missing, data is empty"),
        ({"uid": "ID0000000000", "data": "{}"}, "user.doesnt_exist"),
        ({"uid": "MEMBER", "data": "not json"}, ["Data has invalid format"]),
        ({"uid": "MEMBER", "data": json.dumps({"x": "y" * 2000})}, ["Data is too long"]),
    ],
)
def test_update_user_errors(mgmt, member, data, error):
    data = {k: (member.uid if v == "MEMBER" else v) for k, v in data.items()}
    response = mgmt("users/update", data)
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {"error": error}
    member.refresh_from_db()
    assert member.data is None


# ---------------------------------------------------------------- profiles (2.4.17)


def test_create_profile(mgmt, member):
    response = mgmt(
        "profiles",
        {"uid": member.uid, "first_name": "Grace", "city": "Arlington", "metadata": '{"a":1}'},
    )
    assert response.status_code == HTTPStatus.CREATED, response.content
    assert set(response.json()) == set(USER_WITH_PROFILE)
    profile = response.json()["profiles"][0]
    assert profile["first_name"] == "Grace"
    assert profile["state"] == "drafted"
    assert Label.objects.filter(user=member, key="profile", value="drafted").exists()


def test_create_profile_in_a_given_state(mgmt, member):
    response = mgmt("profiles", {"uid": member.uid, "last_name": "Hopper", "state": "rejected"})
    assert response.json()["profiles"][0]["state"] == "rejected"


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({}, "uid is missing, uid is empty"),
        ({"uid": "ID0000000000"}, "user.doesnt_exist"),
        ({"uid": "MEMBER", "country": "Narnia"}, ["Country is invalid"]),
        ({"uid": "MEMBER", "first_name": ""}, "first_name is empty"),
        ({"uid": "MEMBER", "metadata": "{oops"}, ["Metadata has invalid format"]),
    ],
)
def test_create_profile_errors(mgmt, member, data, error):
    data = {k: (member.uid if v == "MEMBER" else v) for k, v in data.items()}
    response = mgmt("profiles", data)
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {"error": error}
    assert not Profile.objects.filter(user=member).exists()


@pytest.mark.parametrize(
    "value",
    ["ID\x00", "\ud800", "x" * 70000, 12.5, True, ["a"], {"a": 1}, None],
)
def test_hostile_values_are_clean_4xx(mgmt, db, value):
    for path, key in (("users/get", "uid"), ("users/get", "email"), ("labels/list", "user_uid")):
        response = mgmt(path, {key: value})
        assert HTTPStatus.BAD_REQUEST <= response.status_code < 500, (path, value)
        assert "error" in response.json()
