"""/resource/profiles: profiles are created, edited while drafted, submitted; labels follow."""

import contextlib
import threading
from datetime import timedelta
from http import HTTPStatus

import pytest
from django.db import connection
from django.utils import timezone

from accounts.models import Label
from accounts.services import label_set
from kyc.models import Profile
from kyc.services import profile_create

pytestmark = pytest.mark.django_db
PROFILES = "/api/v2/resource/profiles"
FORMATS = ["multipart", "json"]
FULL = {
    "first_name": "  Jöhn   Ronald ",
    "last_name": "O'Neil-Smith",
    "dob": "1990-02-03",
    "address": 'Flat 2, 10 "Main" St. #5 (rear) / A&B; c:\\d',
    "postcode": " SW1A  1AA ",
    "city": "São Paulo",
    "country": "gb",
    "metadata": '{"source": "web"}',
}


def label(user, key: str) -> str | None:
    found = Label.objects.filter(user=user, key=key, scope="private").first()
    return found.value if found else None


def test_me_is_an_empty_array_without_profiles(member_api):
    response = member_api.get(f"{PROFILES}/me")

    assert response.status_code == HTTPStatus.OK
    assert response.json() == []


@pytest.mark.parametrize("fmt", FORMATS)
def test_create_drafted_profile_normalises_fields(member, member_api, fmt):
    response = member_api.post(PROFILES, FULL, format=fmt)

    assert response.status_code == HTTPStatus.CREATED
    body = response.json()
    assert body == {
        **body,
        "first_name": "Jöhn Ronald",
        "last_name": "O'Neil-Smith",
        "dob": "1990-02-03",
        "address": FULL["address"],
        "postcode": "SW1A 1AA",
        "city": "São Paulo",
        "country": "GB",
        "state": "drafted",
        "metadata": '{"source": "web"}',
    }
    assert list(body) == [
        "first_name", "last_name", "dob", "address", "postcode", "city", "country",
        "state", "metadata", "created_at", "updated_at",
    ]  # fmt: skip
    assert label(member, "profile") == "drafted"
    assert member_api.get(f"{PROFILES}/me").json() == [body]


@pytest.mark.parametrize("confirm", ["true", "1", "yes", "on", True])
def test_create_with_confirm_submits(member, member_api, confirm):
    response = member_api.post(PROFILES, {"first_name": "Ann", "confirm": confirm}, format="json")

    assert response.status_code == HTTPStatus.CREATED
    assert response.json()["state"] == "submitted"
    assert label(member, "profile") == "submitted"


def test_create_accepts_alpha3_country_and_no_fields(member_api):
    assert member_api.post(PROFILES, {"country": "ukr"}).json()["country"] == "UKR"


def test_create_with_nothing_is_an_empty_draft(member_api):
    response = member_api.post(PROFILES, {})

    assert response.status_code == HTTPStatus.CREATED
    assert response.json()["first_name"] is None
    assert response.json()["state"] == "drafted"


@pytest.mark.parametrize("state", ["drafted", "submitted"])
def test_create_while_one_is_open_is_state_exists(member, member_api, state):
    profile_create(user=member, fields={}, confirm=state == "submitted")

    response = member_api.post(PROFILES, {"first_name": "Ann"})

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {"errors": ["state.exists"]}
    assert Profile.objects.filter(user=member).count() == 1


@pytest.mark.parametrize("state", ["verified", "rejected"])
def test_create_after_a_decided_profile_is_allowed(member, member_api, state):
    old = profile_create(user=member, fields={}, confirm=True)
    Profile.objects.filter(pk=old.pk).update(state=state)

    response = member_api.post(PROFILES, {"first_name": "Ann"})

    assert response.status_code == HTTPStatus.CREATED
    assert Profile.objects.filter(user=member).count() == 2


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    ("params", "keys"),
    [
        ({"first_name": "J0hn<script>"}, ["first_name.invalid"]),
        ({"first_name": "x" * 10240}, ["first_name.too_long"]),
        ({"last_name": "Smith; DROP"}, ["last_name.invalid"]),
        ({"city": "Paris!"}, ["city.invalid"]),
        ({"postcode": "A"}, ["postcode.too_short"]),
        ({"postcode": "AB,1"}, ["postcode.invalid"]),
        ({"address": "Main St <b>"}, ["address.invalid"]),
        ({"address": "a" * 256}, ["address.too_long"]),
        ({"country": "XX"}, ["country.invalid"]),
        ({"country": "United Kingdom"}, ["country.invalid"]),
        ({"country": "ÄÖ"}, ["country.invalid"]),
        ({"metadata": "{not json"}, ["metadata.invalid_format"]),
        ({"dob": "yesterday"}, ["resource.profile.invalid_dob"]),
        ({"dob": "1990-13-45"}, ["resource.profile.invalid_dob"]),
        ({"dob": "12/31/1990"}, ["resource.profile.invalid_dob"]),  # month first
        ({"dob": "31/02/1990"}, ["resource.profile.invalid_dob"]),
        ({"dob": "09/12/90"}, ["resource.profile.invalid_dob"]),
        ({"dob": "9" * 10240}, ["resource.profile.invalid_dob"]),
        ({"dob": "1850-01-01"}, ["dob.invalid"]),
        ({"confirm": "maybe"}, ["resource.profile.invalid_confirm"]),
        (
            {"first_name": "J@ne", "country": "ZZZ", "metadata": "[1,"},
            ["first_name.invalid", "country.invalid", "metadata.invalid_format"],
        ),
    ],
)
def test_create_refuses_bad_fields_and_writes_nothing(member, member_api, fmt, params, keys):
    response = member_api.post(PROFILES, params, format=fmt)

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {"errors": keys}
    assert not Profile.objects.filter(user=member).exists()
    assert label(member, "profile") is None


@pytest.mark.parametrize("written", ["1990-12-09", "09/12/1990", "9/12/1990", "09.12.1990"])
def test_create_takes_the_dates_barong_took(member, member_api, written):
    """Barong read ``dob`` with Ruby's ``Date.parse``: OpenDAX's identity form sends the
    day first (``DD/MM/YYYY``)."""
    response = member_api.post(PROFILES, {"first_name": "Ada", "dob": written})

    assert response.status_code == HTTPStatus.CREATED
    assert response.json()["dob"] == "1990-12-09"


def test_create_refuses_a_future_birth_date(member_api):
    tomorrow = (timezone.now() + timedelta(days=1)).date().isoformat()

    response = member_api.post(PROFILES, {"dob": tomorrow})

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {"errors": ["dob.invalid"]}


@pytest.mark.parametrize("value", [{"a": 1}, ["x"]])
def test_create_refuses_objects_for_strings(member, member_api, value):
    response = member_api.post(
        PROFILES, {"first_name": value, "dob": value, "metadata": value}, format="json"
    )

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {
        "errors": [
            "resource.profile.invalid_first_name",
            "resource.profile.invalid_dob",
            "resource.profile.invalid_metadata",
        ]
    }
    assert not Profile.objects.filter(user=member).exists()


def test_unicode_letters_of_any_script_are_names(member_api):
    response = member_api.post(
        PROFILES, {"first_name": "Владимир", "last_name": "李小龍", "city": "東京"}
    )

    assert response.status_code == HTTPStatus.CREATED
    assert response.json()["last_name"] == "李小龍"


def test_create_turns_a_verified_document_label_into_replaced(member, member_api):
    label_set(user=member, key="document", value="verified", scope="private")

    member_api.post(PROFILES, {"first_name": "Ann"})

    assert label(member, "document") == "replaced"


def test_create_leaves_a_pending_document_label(member, member_api):
    label_set(user=member, key="document", value="pending", scope="private")

    member_api.post(PROFILES, {"first_name": "Ann"})

    assert label(member, "document") == "pending"


@pytest.mark.parametrize("fmt", FORMATS)
def test_put_edits_only_the_given_fields_of_the_draft(member, member_api, fmt):
    member_api.post(PROFILES, {"first_name": "Ann", "city": "Kyiv"})

    response = member_api.put(PROFILES, {"last_name": "Lee", "country": "UA"}, format=fmt)

    assert response.status_code == HTTPStatus.OK
    body = response.json()
    assert (body["first_name"], body["last_name"], body["city"], body["country"]) == (
        "Ann", "Lee", "Kyiv", "UA",
    )  # fmt: skip
    assert body["state"] == "drafted"


def test_put_with_confirm_submits_and_then_it_is_not_editable(member, member_api):
    member_api.post(PROFILES, {"first_name": "Ann"})

    submitted = member_api.put(PROFILES, {"confirm": "true"})
    again = member_api.put(PROFILES, {"first_name": "Bob"})

    assert submitted.status_code == HTTPStatus.OK
    assert submitted.json()["state"] == "submitted"
    assert label(member, "profile") == "submitted"
    assert again.status_code == HTTPStatus.NOT_FOUND
    assert again.json() == {"errors": ["resource.profile.doesnt_exist_or_not_editable"]}
    assert Profile.objects.get(user=member).first_name == "Ann"


def test_put_without_a_draft_is_404(member_api):
    response = member_api.put(PROFILES, {"first_name": "Ann"})

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response.json() == {"errors": ["resource.profile.doesnt_exist_or_not_editable"]}


def test_put_with_bad_fields_changes_nothing(member, member_api):
    member_api.post(PROFILES, {"first_name": "Ann"})

    response = member_api.put(PROFILES, {"first_name": "<b>", "confirm": "true"})

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {"errors": ["first_name.invalid"]}
    profile = Profile.objects.get(user=member)
    assert (profile.first_name, profile.state) == ("Ann", "drafted")


def test_put_blank_clears_a_field(member, member_api):
    member_api.post(PROFILES, {"first_name": "Ann", "dob": "1990-01-01"})

    body = member_api.put(PROFILES, {"first_name": "", "dob": ""}).json()

    assert (body["first_name"], body["dob"]) == (None, None)


def test_put_never_edits_another_users_draft(member_api, make_user):
    other = make_user()
    profile_create(user=other, fields={"first_name": "Zed"})

    response = member_api.put(PROFILES, {"first_name": "Hacked"})

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert Profile.objects.get(user=other).first_name == "Zed"


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_creates_leave_one_open_profile(auth_api):
    from tests.factories import make_user_with

    user = make_user_with()
    results: list[int] = []
    barrier = threading.Barrier(2)
    # SQLite's in-memory test database refuses (rather than waits for) a locked table, so
    # there the requests take turns; on PostgreSQL they race and the user-row lock decides.
    gate = threading.Lock() if connection.vendor == "sqlite" else contextlib.nullcontext()

    def create() -> None:
        try:
            client = auth_api(user)
            barrier.wait()
            with gate:
                results.append(client.post(PROFILES, {"first_name": "Ann"}).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=create) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(results) == [HTTPStatus.CREATED, HTTPStatus.UNPROCESSABLE_ENTITY]
    assert Profile.objects.filter(user=user).count() == 1
