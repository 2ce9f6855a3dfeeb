"""``users/me`` (GET, PUT, DELETE), ``users/activity/{topic}``, ``users/password``."""

import json
import re
from http import HTTPStatus

import pytest

from accounts.models import Label, User
from accounts.services import user_data_set
from activities.models import Activity
from activities.services import activity_record, admin_activity_record
from apikeys.services import api_key_create
from events.models import OutboxEvent
from tests.entities import OWN_ACTIVITY, USER_WITH_FULL_INFO
from tests.factories import DEFAULT_PASSWORD
from tests.resource_account.helpers import (
    HOSTILE_JSON,
    HOSTILE_STRINGS,
    HUGE,
    login,
    two_factor_on,
    unthrottle,
)

pytestmark = pytest.mark.django_db

ME = "/api/v2/resource/users/me"
PASSWORD = "/api/v2/resource/users/password"
NEW_PASSWORD = "Another-Fine-Horse-77"
RAW_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
ENTITY_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


# ---------------------------------------------------------------- GET users/me


@pytest.mark.parametrize("prefix", ["/api/v2", "/api/v2/barong"])
def test_me_answers_user_with_full_info_without_csrf_token(auth_api, make_user, prefix):
    user = make_user()

    response = auth_api(user).get(f"{prefix}/resource/users/me")

    assert response.status_code == HTTPStatus.OK
    body = response.json()
    assert list(body) == USER_WITH_FULL_INFO
    assert (body["email"], body["uid"], body["level"], body["otp"], body["state"]) == (
        user.email,
        user.uid,
        1,
        False,
        "active",
    )
    assert ENTITY_TIME.match(body["created_at"])
    assert body["labels"][0]["key"] == "email"
    assert body["labels"][0]["scope"] == "private"


def test_me_without_credentials_is_401(api):
    response = api.get(ME)

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json() == {"errors": ["jwt.decode_and_verify"]}


def test_me_with_a_forged_token_is_401(api, make_user):
    api.credentials(HTTP_AUTHORIZATION="Bearer not.a.jwt")

    response = api.get(ME)

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json() == {"errors": ["jwt.decode_and_verify"]}


def test_me_works_with_the_session_cookie(api, make_user):
    user = make_user()
    login(api, user)

    response = api.get(ME)

    assert response.status_code == HTTPStatus.OK
    assert response.json()["uid"] == user.uid
    assert "csrf_token" not in response.json()


# ---------------------------------------------------------------- PUT users/me


def _data_rows(user) -> list[tuple[str, str, str]]:
    rows = Activity.objects.filter(user=user, topic="account", action="data update")
    return list(rows.values_list("topic", "action", "result"))


def test_put_me_with_the_whole_user_stores_only_data(api, make_user):
    """OpenDAX's language switch sends the user object it holds, ``data`` replaced by JSON
    text: only ``data`` changes (Barong 2.4.3+, 201), audited in the activity log and in
    ``model.user.updated``."""
    user = make_user()
    csrf = login(api, user)
    whole = api.get(ME).json()
    sent = {
        **whole,
        "email": "someone.else@example.com",
        "role": "superadmin",
        "level": 9,
        "state": "active",
        "otp": True,
        "uid": "ID0000000000",
        "labels": [{"key": "ban", "value": "no", "scope": "private"}],
        "data": json.dumps({"language": "ru"}),
    }

    events = OutboxEvent.objects.filter(category="model", routing_key="user.updated")
    events_before = events.count()

    response = api.put(ME, sent, format="json", HTTP_X_CSRF_TOKEN=csrf)

    assert response.status_code == HTTPStatus.CREATED
    body = response.json()
    assert json.loads(body["data"]) == {"language": "ru"}
    assert {k: v for k, v in body.items() if k not in ("data", "updated_at")} == {
        k: v for k, v in whole.items() if k not in ("data", "updated_at")
    }
    stored = User.objects.get(pk=user.pk)
    assert (stored.email, stored.role, stored.level, stored.otp, stored.uid) == (
        user.email,
        user.role,
        user.level,
        user.otp,
        user.uid,
    )
    assert (stored.data, stored.language) == ('{"language": "ru"}', "ru")
    assert not Label.objects.filter(user=user, key="ban").exists()
    assert _data_rows(user) == [("account", "data update", "succeed")]
    assert events.count() == events_before + 1
    assert events.order_by("id").last().payload["record"]["uid"] == user.uid
    assert api.get(ME).json()["data"] == '{"language": "ru"}'


def test_put_me_with_the_same_data_records_nothing_new(auth_api, make_user):
    user = make_user()
    client = auth_api(user)
    assert client.put(ME, {"data": '{"language": "en"}'}, format="json").status_code == 201

    again = client.put(ME, {"data": '{"language": "en"}'}, format="json")

    assert again.status_code == HTTPStatus.CREATED
    assert _data_rows(user) == [("account", "data update", "succeed")]


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({}, ["resource.user.missing_data", "resource.user.empty_data"]),
        ({"data": ""}, ["resource.user.empty_data"]),
        ({"data": "   "}, ["resource.user.empty_data"]),
        ({"data": "{language: ru}"}, ["data.invalid_format"]),
        ({"data": "NaN"}, ["data.invalid_format"]),
        ({"data": '{"a": Infinity}'}, ["data.invalid_format"]),
        ({"data": json.dumps({"language": "x" * 1024})}, ["data.too_long"]),
        ({"data": HUGE}, ["data.too_long"]),
        ({"data": {"language": "ru"}}, ["resource.user.invalid_data"]),
        ({"data": ["ru"]}, ["resource.user.invalid_data"]),
    ],
)
def test_put_me_refusals_change_nothing(auth_api, make_user, body, errors):
    user = user_data_set(user=make_user(), data='{"language": "en"}')

    response = auth_api(user).put(ME, body, format="json")

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {"errors": errors}
    assert User.objects.get(pk=user.pk).data == '{"language": "en"}'
    assert _data_rows(user) == []


@pytest.mark.parametrize("value", HOSTILE_STRINGS)
def test_put_me_with_hostile_strings_never_fails_hard(auth_api, make_user, value):
    response = auth_api(make_user()).put(ME, {"data": value}, format="json")

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json()["errors"][0].startswith(("data.", "resource.user."))


def test_put_me_with_the_cookie_needs_the_csrf_token(api, make_user):
    user = user_data_set(user=make_user(), data='{"language": "en"}')
    login(api, user)

    response = api.put(ME, {"data": '{"language": "ru"}'}, format="json")

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json() == {"errors": ["authz.missing_csrf_token"]}
    assert User.objects.get(pk=user.pk).data == '{"language": "en"}'


def test_put_me_is_rate_limited_per_account(auth_api, make_user, settings):
    settings.BARONG_RATE_LIMITS = True
    settings.BARONG_RATE_LIMIT_RULES = {**settings.BARONG_RATE_LIMIT_RULES, "data_account": "2/60"}
    user = make_user()
    client = auth_api(user)
    for language in ("ru", "en"):
        assert client.put(ME, {"data": json.dumps({"language": language})}).status_code == 201

    response = client.put(ME, {"data": '{"language": "de"}'})

    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert response.json() == {"errors": ["resource.user.too_many_requests"]}
    assert json.loads(User.objects.get(pk=user.pk).data) == {"language": "en"}


# ---------------------------------------------------------------- DELETE users/me


def test_self_delete_soft_deletes_and_switches_off_keys(auth_api, make_user, clock):
    user = two_factor_on(make_user(), clock)
    api_key, _ = api_key_create(user=user)
    client = auth_api(user)

    response = client.delete(f"{ME}?password={DEFAULT_PASSWORD}&otp_code={clock.next_code(user)}")

    assert response.status_code == HTTPStatus.OK
    assert response.json() == {}
    user.refresh_from_db()
    assert user.state == "deleted"
    assert User.objects.filter(pk=user.pk).exists()  # never removed
    assert Label.objects.get(user=user, key="delete").value == "by_user"
    assert Label.objects.get(user=user, key="delete").scope == "private"
    api_key.refresh_from_db()
    assert api_key.state == "inactive"
    again = client.get(ME)
    assert again.status_code == HTTPStatus.UNAUTHORIZED
    assert again.json() == {"errors": ["authz.user_not_active"]}


def test_self_delete_without_2fa_needs_only_the_password(auth_api, make_user):
    user = make_user()

    response = auth_api(user).delete(ME, {"password": DEFAULT_PASSWORD}, format="json")

    assert response.status_code == HTTPStatus.OK
    user.refresh_from_db()
    assert user.state == "deleted"


def test_self_delete_ends_every_session_of_the_user(api, make_user, auth_api):
    from rest_framework.test import APIClient

    from tests.conftest import BROWSER_UA

    user = make_user()
    other_browser = APIClient(HTTP_USER_AGENT=BROWSER_UA, REMOTE_ADDR="203.0.113.10")
    login(other_browser, user)
    csrf = login(api, user)

    response = api.delete(ME, {"password": DEFAULT_PASSWORD}, format="json", HTTP_X_CSRF_TOKEN=csrf)

    assert response.status_code == HTTPStatus.OK
    for client in (api, other_browser):
        assert client.get(ME).status_code == HTTPStatus.UNAUTHORIZED


@pytest.mark.parametrize(
    ("params", "errors"),
    [
        ({}, ["resource.user.missing_password", "resource.user.empty_password"]),
        ({"password": ""}, ["resource.user.empty_password"]),
        ({"password": "   "}, ["resource.user.empty_password"]),
        ({"password": "wrong-password"}, ["resource.user.invalid_password"]),
        ({"password": HUGE}, ["resource.user.invalid_password"]),
        ({"password": "пароль-密码-🔐"}, ["resource.user.invalid_password"]),
        ({"password": DEFAULT_PASSWORD, "otp_code": ""}, ["resource.user.empty_otp_code"]),
    ],
)
def test_self_delete_refusals_leave_the_user_alone(auth_api, make_user, params, errors):
    user = make_user()

    response = auth_api(user).delete(ME, params, format="json")

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {"errors": errors}
    user.refresh_from_db()
    assert user.state == "active"
    assert not Label.objects.filter(user=user, key="delete").exists()


@pytest.mark.parametrize("value", HOSTILE_JSON[:2])
def test_self_delete_with_a_json_structure_as_password(auth_api, make_user, value):
    user = make_user()

    response = auth_api(user).delete(ME, {"password": value}, format="json")

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {"errors": ["resource.user.invalid_password"]}


@pytest.mark.parametrize(
    ("otp_code", "error"),
    [
        (None, "resource.user.missing_otp_code"),
        ("000000", "resource.user.invalid_otp"),
        ("abcdef", "resource.user.invalid_otp"),
        (HUGE, "resource.user.invalid_otp"),
    ],
)
def test_self_delete_with_2fa_needs_a_valid_code(auth_api, make_user, clock, otp_code, error):
    user = two_factor_on(make_user(), clock)
    params = {"password": DEFAULT_PASSWORD}
    if otp_code is not None:
        params["otp_code"] = otp_code

    response = auth_api(user).delete(ME, params, format="json")

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {"errors": [error]}
    user.refresh_from_db()
    assert user.state == "active"


def test_self_delete_checks_the_password_before_the_code(auth_api, make_user, clock):
    user = two_factor_on(make_user(), clock)

    response = auth_api(user).delete(ME, {"password": "wrong-password"}, format="json")

    assert response.json() == {"errors": ["resource.user.invalid_password"]}


def test_self_delete_password_guessing_is_rate_limited(auth_api, make_user):
    user = make_user()
    client = auth_api(user)
    statuses = [
        client.delete(ME, {"password": f"guess-{i}"}, format="json").status_code for i in range(10)
    ]

    response = client.delete(ME, {"password": DEFAULT_PASSWORD}, format="json")

    assert set(statuses) == {HTTPStatus.UNPROCESSABLE_ENTITY}
    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert response.json() == {"errors": ["resource.user.too_many_requests"]}
    user.refresh_from_db()
    assert user.state == "active"


# ---------------------------------------------------------------- GET users/activity/{topic}


def _activity(user, topic: str, action: str = "something", result: str = "succeed"):
    return activity_record(
        user=user,
        topic=topic,
        action=action,
        result=result,
        user_ip="198.51.100.7",
        user_agent_text="Mozilla/5.0 Firefox/120.0",
    )


def test_activity_all_lists_raw_rows_newest_first(auth_api, make_user):
    user = make_user()
    rows = [_activity(user, topic) for topic in ("session", "otp", "password", "account")]
    _activity(make_user(), "session")  # someone else's

    response = auth_api(user).get("/api/v2/resource/users/activity/all")

    assert response.status_code == HTTPStatus.OK
    body = response.json()
    assert [row["id"] for row in body] == [row.id for row in reversed(rows)]
    assert list(body[0]) == OWN_ACTIVITY
    assert body[0]["user_id"] == user.pk
    assert body[0]["category"] == "user"
    assert body[0]["user_ip"] == "198.51.100.7"
    assert RAW_TIME.match(body[0]["created_at"])
    assert (response["Total"], response["Page"], response["Per-Page"]) == ("4", "1", "100")


@pytest.mark.parametrize("topic", ["session", "otp", "password", "account"])
def test_activity_filters_by_topic(auth_api, make_user, topic):
    user = make_user()
    for name in ("session", "otp", "password", "account"):
        _activity(user, name)

    response = auth_api(user).get(f"/api/v2/resource/users/activity/{topic}")

    assert response.status_code == HTTPStatus.OK
    assert [row["topic"] for row in response.json()] == [topic]


def test_activity_includes_admin_rows_the_user_produced(auth_api, make_admin, make_user):
    admin = make_admin()
    admin_activity_record(admin=admin, topic="session", action="read", target=make_user())

    response = auth_api(admin).get("/api/v2/resource/users/activity/session")

    assert response.status_code == HTTPStatus.OK
    assert response.json()[0]["category"] == "admin"
    assert response.json()[0]["target_uid"] is not None


def test_activity_paginates(auth_api, make_user):
    user = make_user()
    rows = [_activity(user, "session") for _ in range(5)]

    response = auth_api(user).get("/api/v2/resource/users/activity/all?page=2&limit=2")

    assert [row["id"] for row in response.json()] == [rows[2].id, rows[1].id]
    assert (response["Total"], response["Page"], response["Per-Page"]) == ("5", "2", "2")


@pytest.mark.parametrize("topic", ["login", "ALL", "пароль", "x" * 2000, "%7B%7D"])
def test_activity_wrong_topic(auth_api, make_user, topic):
    user = make_user()
    _activity(user, "session")

    response = auth_api(user).get(f"/api/v2/resource/users/activity/{topic}")

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {"errors": ["resource.user.wrong_topic"]}


def test_activity_empty_is_no_activity(auth_api, make_user):
    user = make_user()
    _activity(user, "session")

    response = auth_api(user).get("/api/v2/resource/users/activity/otp")

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {"errors": ["resource.user.no_activity"]}


@pytest.mark.parametrize(
    ("query", "errors"),
    [
        ("page=abc", ["non_integer_page"]),
        ("page=0", ["non_positive_page"]),
        ("limit=101", ["invalid_limit"]),
        ("limit=x&page=-1", ["non_positive_page", "non_integer_limit"]),
    ],
)
def test_activity_bad_pagination_comes_before_the_topic(auth_api, make_user, query, errors):
    user = make_user()

    response = auth_api(user).get(f"/api/v2/resource/users/activity/nope?{query}")

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {"errors": errors}


# ---------------------------------------------------------------- PUT users/password


def _change(old=DEFAULT_PASSWORD, new=NEW_PASSWORD, confirm=None) -> dict:
    return {"old_password": old, "new_password": new, "confirm_password": confirm or new}


def _password_rows(user) -> list[tuple[str, str, dict | None]]:
    rows = Activity.objects.filter(user=user, topic="password").order_by("id")
    return [(r.action, r.result, json.loads(r.data) if r.data else None) for r in rows]


@pytest.mark.parametrize("fmt", ["multipart", "json"])
def test_password_change(auth_api, make_user, fmt):
    user = make_user()

    response = auth_api(user).put(PASSWORD, _change(), format=fmt)

    assert response.status_code == HTTPStatus.CREATED
    assert response.json() == {}
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert _password_rows(user) == [("password change", "succeed", None)]


def test_password_change_keeps_this_session_and_ends_the_others(api, make_user):
    from rest_framework.test import APIClient

    from tests.conftest import BROWSER_UA

    user = make_user()
    other_browser = APIClient(HTTP_USER_AGENT=BROWSER_UA, REMOTE_ADDR="203.0.113.10")
    login(other_browser, user)
    csrf = login(api, user)

    response = api.put(PASSWORD, _change(), format="json", HTTP_X_CSRF_TOKEN=csrf)

    assert response.status_code == HTTPStatus.CREATED
    assert api.get(ME).status_code == HTTPStatus.OK
    assert other_browser.get(ME).status_code == HTTPStatus.UNAUTHORIZED


@pytest.mark.parametrize(
    ("body", "status", "error", "reason"),
    [
        (
            _change(confirm="Something-Else-123"),
            422,
            "resource.password.doesnt_match",
            "New passwords don't match",
        ),
        (
            _change(old="Not-The-Password-1"),
            400,
            "resource.password.prev_pass_not_correct",
            "Previous password is not correct",
        ),
        (
            _change(new=DEFAULT_PASSWORD),
            400,
            "resource.password.no_change_provided",
            "New password cant be the same, as old one",
        ),
        (
            _change(new="short"),
            422,
            "password.requirements",
            "Password does not meet the minimum requirements",
        ),
        (_change(new="password123"), 422, "password.weak", "Password is too weak"),
        (_change(new="Aa1-" * 40), 422, "password.too_long", "Password is too long"),
    ],
)
def test_password_change_refusals_record_a_failure(
    auth_api, make_user, body, status, error, reason
):
    user = make_user()

    response = auth_api(user).put(PASSWORD, body, format="json")

    assert response.status_code == status
    assert response.json() == {"errors": [error]}
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD)
    [(action, result, data)] = _password_rows(user)
    assert (action, result) == ("password change", "failed")
    assert data["reason"] == reason


def test_password_mismatch_is_reported_before_a_wrong_old_password(auth_api, make_user):
    user = make_user()

    response = auth_api(user).put(
        PASSWORD, _change(old="wrong-wrong", confirm="other-other-1"), format="json"
    )

    assert response.json() == {"errors": ["resource.password.doesnt_match"]}


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        (
            {},
            [
                "resource.user.missing_old_password",
                "resource.user.empty_old_password",
                "resource.user.missing_new_password",
                "resource.user.empty_new_password",
                "resource.user.missing_confirm_password",
                "resource.user.empty_confirm_password",
            ],
        ),
        (
            {"old_password": "", "new_password": " ", "confirm_password": NEW_PASSWORD},
            ["resource.user.empty_old_password", "resource.user.empty_new_password"],
        ),
        (
            {"old_password": {"a": 1}, "new_password": ["x"], "confirm_password": NEW_PASSWORD},
            ["resource.user.invalid_old_password", "resource.user.invalid_new_password"],
        ),
    ],
)
def test_password_change_parameter_keys(auth_api, make_user, body, errors):
    user = make_user()

    response = auth_api(user).put(PASSWORD, body, format="json")

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {"errors": errors}
    assert _password_rows(user) == []


def test_password_change_refuses_nul_characters(auth_api, make_user):
    user = make_user()

    response = auth_api(user).put(PASSWORD, _change(old="a\x00b", new="c\x00d"), format="json")

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {
        "errors": [
            "resource.user.invalid_old_password",
            "resource.user.invalid_new_password",
            "resource.user.invalid_confirm_password",
        ]
    }


@pytest.mark.parametrize("value", HOSTILE_STRINGS[:3])
def test_password_change_with_hostile_strings_never_fails_hard(auth_api, make_user, value):
    user = make_user()

    response = auth_api(user).put(PASSWORD, _change(old=value, new=value), format="json")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json() == {"errors": ["resource.password.prev_pass_not_correct"]}
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD)


def test_password_change_guessing_is_rate_limited(auth_api, make_user):
    user = make_user()
    client = auth_api(user)
    for i in range(10):
        client.put(PASSWORD, _change(old=f"guess-{i}"), format="json")

    response = client.put(PASSWORD, _change(), format="json")

    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert response.json() == {"errors": ["resource.password.too_many_requests"]}
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD)


def test_unthrottle_helper_resets_the_back_off(make_user, clock):
    from accounts.services.otp import otp_verify

    user = two_factor_on(make_user(), clock)
    assert not otp_verify(user=user, code="000000", now=clock.now)
    assert not otp_verify(user=user, code=clock.next_code(user), now=clock.now)  # throttled

    unthrottle(user)

    assert otp_verify(user=user, code=clock.next_code(user), now=clock.now)
