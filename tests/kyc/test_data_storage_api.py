"""POST /resource/data_storage: one JSON document per allowed title, recorded as a private label."""

from http import HTTPStatus

import pytest

from accounts.models import Label
from kyc.models import DataStorage

pytestmark = pytest.mark.django_db
STORAGE = "/api/v2/resource/data_storage"
FORMATS = ["multipart", "json"]


def storage_rows(user) -> list[tuple[str, str]]:
    return list(DataStorage.objects.filter(user=user).values_list("title", "data"))


@pytest.mark.parametrize("fmt", FORMATS)
def test_store_personal_data(member, member_api, fmt):
    response = member_api.post(
        STORAGE, {"title": "personal", "data": '{"job": "pilot"}'}, format=fmt
    )

    assert response.status_code == HTTPStatus.CREATED
    assert response.json() == {}
    assert storage_rows(member) == [("personal", '{"job": "pilot"}')]
    label = Label.objects.get(user=member, key="personal")
    assert (label.value, label.scope) == ("recorded", "private")
    member.refresh_from_db()
    assert (member.level, member.state) == (1, "active")


def test_the_entry_shows_in_users_me(member_api):
    member_api.post(STORAGE, {"title": "personal", "data": "[1, 2]"})

    body = member_api.get("/api/v2/resource/users/me").json()

    assert [(d["title"], d["data"]) for d in body["data_storages"]] == [("personal", "[1, 2]")]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    ("data", "keys"),
    [
        (
            {},
            [
                "resource.datastorage.missing_title",
                "resource.datastorage.empty_title",
                "resource.datastorage.missing_data",
                "resource.datastorage.empty_data",
            ],
        ),
        ({"title": "", "data": "{}"}, ["resource.datastorage.empty_title"]),
        ({"title": "personal", "data": ""}, ["resource.datastorage.empty_data"]),
        ({"title": "work", "data": "{}"}, ["title.inclusion"]),
        ({"title": "Personal", "data": "{}"}, ["title.inclusion"]),
        ({"title": "t" * 10240, "data": "{}"}, ["title.inclusion", "title.too_long"]),
        ({"title": "personal", "data": "{not json"}, ["data.invalid_format"]),
        ({"title": "personal", "data": "x" * 10240}, ["data.invalid_format", "data.too_long"]),
        ({"title": "personal", "data": '"' + "a" * 5119 + '"'}, ["data.too_long"]),
        ({"title": "données", "data": "{}"}, ["title.inclusion"]),
    ],
)
def test_bad_parameters_store_nothing(member, member_api, fmt, data, keys):
    response = member_api.post(STORAGE, data, format=fmt)

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {"errors": keys}
    assert storage_rows(member) == []
    assert not Label.objects.filter(user=member, value="recorded").exists()


def test_data_at_the_length_limit_is_accepted(member, member_api):
    data = '"' + "a" * 5118 + '"'

    response = member_api.post(STORAGE, {"title": "personal", "data": data})

    assert response.status_code == HTTPStatus.CREATED


@pytest.mark.parametrize("value", [{"a": 1}, ["x"]])
def test_objects_for_strings_are_refused(member, member_api, value):
    response = member_api.post(STORAGE, {"title": value, "data": value}, format="json")

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {
        "errors": ["resource.datastorage.invalid_title", "resource.datastorage.invalid_data"]
    }
    assert storage_rows(member) == []


def test_one_entry_per_title(member, member_api):
    member_api.post(STORAGE, {"title": "personal", "data": "{}"})

    response = member_api.post(STORAGE, {"title": "personal", "data": '{"b": 2}'})

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {"errors": ["title.taken"]}
    assert storage_rows(member) == [("personal", "{}")]


def test_titles_are_unique_case_insensitively(member, member_api, settings):
    settings.BARONG_USER_STORAGE_TITLES = ["personal", "Personal"]
    member_api.post(STORAGE, {"title": "personal", "data": "{}"})

    response = member_api.post(STORAGE, {"title": "Personal", "data": "{}"})

    assert response.json() == {"errors": ["title.taken"]}


@pytest.mark.parametrize(
    "title", ["document", "label", "profile", "phone", "user", "email", "banana", "locker"]
)
def test_titles_that_would_mean_something_are_excluded(member, member_api, settings, title):
    settings.BARONG_USER_STORAGE_TITLES = ["personal", title]

    response = member_api.post(STORAGE, {"title": title, "data": "{}"})

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {"errors": ["title.exclusion"]}
    member.refresh_from_db()
    assert (member.state, member.level) == ("active", 1)
    assert storage_rows(member) == []


def test_a_title_that_cannot_be_a_label_key_is_stored_without_label(member, member_api, settings):
    settings.BARONG_USER_STORAGE_TITLES = ["KYC Extra"]

    response = member_api.post(STORAGE, {"title": "KYC Extra", "data": "{}"})

    assert response.status_code == HTTPStatus.CREATED
    assert storage_rows(member) == [("KYC Extra", "{}")]
    assert not Label.objects.filter(user=member, value="recorded").exists()


def test_another_users_title_does_not_count(member_api, make_user, auth_api):
    auth_api(make_user()).post(STORAGE, {"title": "personal", "data": "{}"})

    response = member_api.post(STORAGE, {"title": "personal", "data": "{}"})

    assert response.status_code == HTTPStatus.CREATED
