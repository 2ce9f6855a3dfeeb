"""Labels: users see all their labels and manage only their own public, non-reserved ones."""

from http import HTTPStatus

import pytest

from accounts.models import Label
from accounts.services import label_set

pytestmark = pytest.mark.django_db
LABELS = "/api/v2/resource/labels"
FORMATS = ["multipart", "json"]


def labels_of(user) -> list[tuple[str, str, str]]:
    return list(Label.objects.filter(user=user).order_by("id").values_list("key", "value", "scope"))


def test_list_shows_public_and_private_labels(member, member_api):
    label_set(user=member, key="colour", value="blue", scope="public")

    response = member_api.get(LABELS)

    assert response.status_code == HTTPStatus.OK
    body = response.json()
    assert [(x["key"], x["value"], x["scope"]) for x in body] == [
        ("email", "verified", "private"),
        ("colour", "blue", "public"),
    ]
    assert set(body[0]) == {"key", "value", "scope", "created_at", "updated_at"}
    assert body[0]["created_at"].endswith("Z")


def test_list_needs_a_bearer_token(api, member):
    response = api.get(LABELS)

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json() == {"errors": ["jwt.decode_and_verify"]}


@pytest.mark.parametrize("prefix", ["/api/v2", "/api/v2/barong"])
def test_retrieve_by_key_any_scope(member_api, prefix):
    response = member_api.get(f"{prefix}/resource/labels/email")

    assert response.status_code == HTTPStatus.OK
    assert response.json()["value"] == "verified"
    assert response.json()["scope"] == "private"


def test_retrieve_is_case_insensitive_on_the_key(member_api):
    response = member_api.get(f"{LABELS}/EMAIL")

    assert response.status_code == HTTPStatus.OK
    assert (response.json()["key"], response.json()["value"]) == ("email", "verified")


@pytest.mark.parametrize("key", ["nothing", "x" * 300, "%F0%9F%92%A3", "..", "a%20b", "ab%00cd"])
def test_retrieve_unknown_key_is_record_not_found(member_api, key):
    response = member_api.get(f"{LABELS}/{key}")

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response.json() == {"errors": ["record.not_found"]}


def test_retrieve_never_shows_another_users_label(member_api, make_user):
    other = make_user()
    label_set(user=other, key="secretkey", value="hidden", scope="public")

    response = member_api.get(f"{LABELS}/secretkey")

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response.json() == {"errors": ["record.not_found"]}


@pytest.mark.parametrize("fmt", FORMATS)
def test_create_squishes_and_lower_cases_key_and_value(member_api, fmt):
    response = member_api.post(
        LABELS, {"key": "  FAV_Colour\t", "value": " DARK-blue "}, format=fmt
    )

    assert response.status_code == HTTPStatus.CREATED
    body = response.json()
    assert (body["key"], body["value"], body["scope"]) == ("fav_colour", "dark-blue", "public")


@pytest.mark.parametrize("fmt", FORMATS)
def test_create_stores_a_public_label(member, member_api, fmt):
    response = member_api.post(LABELS, {"key": "Favourite", "value": "BLUE"}, format=fmt)

    assert response.status_code == HTTPStatus.CREATED
    assert response.json()["key"] == "favourite"
    assert labels_of(member)[-1] == ("favourite", "blue", "public")
    member.refresh_from_db()
    assert (member.level, member.state) == (1, "active")  # public labels never count


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    ("params", "keys"),
    [
        (
            {},
            [
                "resource.label.missing_key",
                "resource.label.empty_key",
                "resource.label.missing_value",
                "resource.label.empty_value",
            ],
        ),
        ({"key": "", "value": "abc"}, ["resource.label.empty_key"]),
        ({"key": "abc", "value": ""}, ["resource.label.empty_value"]),
        ({"key": "ab", "value": "abc"}, ["key.too_short"]),
        ({"key": "abc", "value": "ab"}, ["value.too_short"]),
        ({"key": "a" * 10240, "value": "abc"}, ["key.too_long"]),
        ({"key": "abc", "value": "v" * 10240}, ["value.too_long"]),
        ({"key": "two words", "value": "abc"}, ["key.invalid"]),
        ({"key": "ключ", "value": "abc"}, ["key.invalid"]),
        ({"key": "abc", "value": "значение"}, ["value.invalid"]),
        ({"key": "abc", "value": "a/b/c"}, ["value.invalid"]),
        ({"key": "abc\u0000", "value": "abc"}, ["resource.label.invalid_key"]),
    ],
)
def test_create_refuses_bad_parameters(member, member_api, fmt, params, keys):
    before = labels_of(member)

    response = member_api.post(LABELS, params, format=fmt)

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {"errors": keys}
    assert labels_of(member) == before


@pytest.mark.parametrize("value", [{"a": 1}, ["a", "b"]])
def test_create_refuses_objects_where_strings_are_expected(member, member_api, value):
    response = member_api.post(LABELS, {"key": value, "value": value}, format="json")

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {
        "errors": ["resource.label.invalid_key", "resource.label.invalid_value"]
    }
    assert labels_of(member) == [("email", "verified", "private")]


def test_create_accepts_numbers_as_strings(member_api):
    response = member_api.post(LABELS, {"key": 12345, "value": 678}, format="json")

    assert response.status_code == HTTPStatus.CREATED
    assert (response.json()["key"], response.json()["value"]) == ("12345", "678")


def test_create_twice_is_key_taken(member, member_api):
    member_api.post(LABELS, {"key": "colour", "value": "blue"})

    response = member_api.post(LABELS, {"key": "COLOUR", "value": "red"})

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {"errors": ["key.taken"]}
    assert labels_of(member)[-1] == ("colour", "blue", "public")


@pytest.mark.parametrize(
    "key",
    [
        "ban",
        "banned",
        "fraud",
        "fraudster",
        "delete",
        "deleted_me",
        "lock",
        "locked",
        "suspicious",
        "email",
        "phone",
        "profile",
        "document",
        "otp",
        "personal",
    ],
)
def test_create_refuses_reserved_keys(member, member_api, key):
    response = member_api.post(LABELS, {"key": key, "value": "verified"})

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {"errors": ["key.reserved"]}
    member.refresh_from_db()
    assert (member.state, member.level) == ("active", 1)
    assert labels_of(member) == [("email", "verified", "private")]


def test_a_level_key_added_by_the_operator_is_reserved(member_api):
    from accounts.services import level_upsert

    level_upsert(id=4, key="address", value="verified", description="Address checked")

    response = member_api.post(LABELS, {"key": "address", "value": "verified"})

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {"errors": ["key.reserved"]}


@pytest.mark.parametrize("fmt", FORMATS)
def test_patch_changes_a_public_label(member, member_api, fmt):
    label_set(user=member, key="colour", value="blue")

    response = member_api.patch(f"{LABELS}/colour", {"value": "RED"}, format=fmt)

    assert response.status_code == HTTPStatus.OK
    assert response.json()["value"] == "red"
    assert labels_of(member)[-1] == ("colour", "red", "public")


@pytest.mark.parametrize(
    ("value", "key"),
    [("no way", "value.invalid"), ("ab", "value.too_short"), ("z" * 10240, "value.too_long")],
)
def test_patch_with_an_invalid_value_is_422_and_keeps_the_old_one(member, member_api, value, key):
    label_set(user=member, key="colour", value="blue")

    response = member_api.patch(f"{LABELS}/colour", {"value": value})

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {"errors": [key]}
    assert labels_of(member)[-1] == ("colour", "blue", "public")


def test_patch_needs_a_value(member, member_api):
    label_set(user=member, key="colour", value="blue")

    assert member_api.patch(f"{LABELS}/colour", {}).json() == {
        "errors": ["resource.label.missing_value", "resource.label.empty_value"]
    }
    assert member_api.patch(f"{LABELS}/colour", {"value": ""}).json() == {
        "errors": ["resource.label.empty_value"]
    }


def test_patch_a_private_label_is_refused(member, member_api):
    response = member_api.patch(f"{LABELS}/email", {"value": "unverified"})

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json() == {"errors": ["resource.labels.private"]}
    assert labels_of(member) == [("email", "verified", "private")]


def test_patch_unknown_label_is_record_not_found(member_api):
    response = member_api.patch(f"{LABELS}/nothing", {"value": "abc"})

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response.json() == {"errors": ["record.not_found"]}


def test_patch_a_public_label_with_a_reserved_key_set_by_an_operator_is_refused(member, member_api):
    label_set(user=member, key="locked_note", value="by_admin", scope="public")

    response = member_api.patch(f"{LABELS}/locked_note", {"value": "gone"})

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {"errors": ["key.reserved"]}


def test_delete_removes_a_public_label(member, member_api):
    label_set(user=member, key="colour", value="blue")

    response = member_api.delete(f"{LABELS}/colour")

    assert response.status_code == HTTPStatus.NO_CONTENT
    assert response.content == b""
    assert labels_of(member) == [("email", "verified", "private")]


def test_delete_a_private_label_is_refused(member, member_api):
    response = member_api.delete(f"{LABELS}/email")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json() == {"errors": ["resource.labels.private"]}
    member.refresh_from_db()
    assert (member.level, member.state) == (1, "active")


def test_delete_unknown_label_is_record_not_found(member_api):
    response = member_api.delete(f"{LABELS}/nothing")

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response.json() == {"errors": ["record.not_found"]}


@pytest.mark.parametrize("method", ["patch", "delete"])
def test_a_nul_byte_in_the_key_is_record_not_found(member, member_api, method):
    """PostgreSQL refuses NUL in text: the key must never reach a query (CI runs on it)."""
    label_set(user=member, key="colour", value="blue")

    response = getattr(member_api, method)(f"{LABELS}/col%00our", {"value": "red"})

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response.json() == {"errors": ["record.not_found"]}
    assert labels_of(member)[-1] == ("colour", "blue", "public")


def test_delete_never_touches_another_users_label(member_api, make_user):
    other = make_user()
    label_set(user=other, key="colour", value="blue")

    response = member_api.delete(f"{LABELS}/colour")

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert labels_of(other)[-1] == ("colour", "blue", "public")
