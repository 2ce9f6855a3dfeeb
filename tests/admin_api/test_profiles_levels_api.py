"""Admin API: profiles (list, edit) and levels."""

import json
from http import HTTPStatus

import pytest

from accounts.models import Label
from accounts.services import label_set
from activities.models import Activity
from kyc.models import Profile
from tests.admin_api.conftest import ADMIN, submitted_profile

pytestmark = pytest.mark.django_db

PROFILES = f"{ADMIN}/profiles"
PROFILE_FIELDS = [
    "first_name",
    "last_name",
    "dob",
    "address",
    "postcode",
    "city",
    "country",
    "state",
    "metadata",
    "created_at",
    "updated_at",
]


def errors(response) -> list[str]:
    return response.json()["errors"]


def profile_row(profile: Profile) -> tuple:
    profile.refresh_from_db()
    return (
        profile.first_name,
        profile.last_name,
        profile.dob,
        profile.city,
        profile.country,
        profile.state,
        profile.metadata,
    )


def private_label(user, key: str) -> str | None:
    label = Label.objects.filter(user=user, key=key, scope="private").first()
    return label.value if label else None


# ---------------------------------------------------------------- GET /admin/profiles


def test_all_profiles_in_table_order(admin_api, make_user):
    first, second = make_user(), make_user()
    submitted_profile(first, first_name="Ada")
    submitted_profile(second, first_name="Grace")

    response = admin_api.get(PROFILES, {"limit": 1, "page": 2})

    assert response.status_code == HTTPStatus.OK
    (row,) = response.json()
    assert list(row) == PROFILE_FIELDS
    assert row["first_name"] == "Grace"
    assert (response["Total"], response["Page"], response["Per-Page"]) == ("2", "2", "1")


def test_profiles_bad_pagination(admin_api):
    response = admin_api.get(PROFILES, {"limit": 0})

    assert (response.status_code, errors(response)) == (422, ["invalid_limit"])


# ---------------------------------------------------------------- PUT /admin/profiles


@pytest.mark.parametrize("fmt", ["json", "multipart"])
def test_operator_corrects_and_verifies_a_submitted_profile(admin_api, make_user, fmt):
    member = make_user()
    profile = submitted_profile(member)

    response = admin_api.put(
        PROFILES,
        {
            "uid": member.uid,
            "first_name": "  Augusta   Ada ",
            "dob": "1985-12-10",
            "city": "London",
            "metadata": '{"checked_by": "ops"}',
            "state": "verified",
        },
        format=fmt,
    )

    assert response.status_code == HTTPStatus.OK
    body = response.json()
    assert list(body) == PROFILE_FIELDS
    assert (body["first_name"], body["dob"], body["state"]) == (
        "Augusta Ada",
        "1985-12-10",
        "verified",
    )
    assert body["metadata"] == '{"checked_by": "ops"}'
    assert private_label(member, "profile") == "verified"
    row = Activity.objects.get(category="admin", target_uid=member.uid)
    assert (row.topic, row.action, json.loads(row.data)["state"]) == (
        "profiles",
        "update",
        "verified",
    )
    assert profile_row(profile)[5] == "verified"


def test_valid_birth_date_is_stored(admin_api, make_user):
    member = make_user()
    submitted_profile(member)

    response = admin_api.put(PROFILES, {"uid": member.uid, "dob": "1990-02-28"})

    assert response.status_code == HTTPStatus.OK
    assert response.json()["dob"] == "1990-02-28"
    assert response.json()["state"] == "submitted"


def test_rejecting_a_profile_follows_with_the_label(admin_api, make_user):
    member = make_user()
    submitted_profile(member)

    response = admin_api.put(PROFILES, {"uid": member.uid, "state": "rejected"})

    assert response.status_code == HTTPStatus.OK
    assert private_label(member, "profile") == "rejected"


def test_profile_commit_sends_verified_documents_back_to_review(admin_api, make_user):
    member = make_user()
    submitted_profile(member)
    label_set(user=member, key="document", value="verified", scope="private")

    response = admin_api.put(PROFILES, {"uid": member.uid, "city": "Paris"})

    assert response.status_code == HTTPStatus.OK
    assert private_label(member, "document") == "replaced"


@pytest.mark.parametrize(
    ("params", "keys"),
    [
        ({"state": "approved"}, ["state.inclusion"]),
        ({"state": "x" * 10_240}, ["state.inclusion"]),
        ({"state": ""}, ["admin.profile.empty_state"]),
        ({"state": {"a": 1}}, ["admin.profile.invalid_state"]),
        ({"first_name": "R2-D2 <script>"}, ["first_name.invalid"]),
        ({"first_name": "x" * 10_240}, ["first_name.too_long"]),
        ({"first_name": {"a": 1}}, ["admin.profile.invalid_first_name"]),
        ({"country": "Atlantis"}, ["country.invalid"]),
        ({"metadata": "{not json"}, ["metadata.invalid_format"]),
        ({"dob": "yesterday"}, ["invalid"]),
        ({"dob": "2001-02-30"}, ["invalid"]),
        ({"dob": {"y": 2000}}, ["invalid"]),
        ({"dob": "2999-01-01"}, ["dob.invalid"]),
        ({"first_name": "!", "country": "ZZZ", "state": "nope"}, None),
    ],
)
def test_profile_refusals_write_nothing(admin_api, make_user, params, keys):
    member = make_user()
    profile = submitted_profile(member)
    before = profile_row(profile)

    response = admin_api.put(PROFILES, {"uid": member.uid, **params}, format="json")

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    if keys is None:  # every broken rule is reported at once
        assert set(errors(response)) == {"first_name.invalid", "country.invalid", "state.inclusion"}
    else:
        assert errors(response) == keys
    assert profile_row(profile) == before
    assert private_label(member, "profile") == "submitted"
    assert not Activity.objects.filter(category="admin", target_uid=member.uid).exists()


@pytest.mark.parametrize(
    ("uid", "state"),
    [
        ("ID0000000000", None),
        ("x" * 10_240, None),
        ("{uid}", "drafted"),
        ("{uid}", "verified"),
        ("{uid}", None),  # no profile at all
    ],
)
def test_no_submitted_profile_is_404(admin_api, make_user, uid, state):
    member = make_user()
    if state is not None:
        profile = submitted_profile(member)
        Profile.objects.filter(pk=profile.pk).update(state=state)

    response = admin_api.put(PROFILES, {"uid": uid.format(uid=member.uid), "city": "Paris"})

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert errors(response) == ["admin.profiles.doesnt_exist_or_not_editable"]


def test_profile_uid_is_required(admin_api):
    missing = admin_api.put(PROFILES, {"city": "Paris"})
    blank = admin_api.put(PROFILES, {"uid": "", "city": "Paris"})

    assert missing.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert errors(missing) == ["admin.profile.missing_uid", "admin.profile.empty_uid"]
    assert errors(blank) == ["admin.profile.empty_uid"]


def test_profile_guards(make_operator, admin_api, sa_api):
    target, _ = make_operator("superadmin")
    profile = submitted_profile(target)
    operator_user, own_client = make_operator("admin")
    own = submitted_profile(operator_user)

    guarded = admin_api.put(PROFILES, {"uid": target.uid, "state": "verified"})
    himself = own_client.put(PROFILES, {"uid": operator_user.uid, "state": "verified"})

    assert (guarded.status_code, errors(guarded)) == (422, ["admin.profiles.superadmin_change"])
    assert (himself.status_code, errors(himself)) == (422, ["admin.user.update_himself"])
    assert profile_row(profile)[5] == "submitted"
    assert profile_row(own)[5] == "submitted"
    assert sa_api.put(PROFILES, {"uid": target.uid, "state": "verified"}).status_code == 200


# ---------------------------------------------------------------- GET /admin/levels


def test_levels_are_the_seeded_table(admin_api):
    response = admin_api.get(f"{ADMIN}/levels", {"page": 2, "limit": 1})

    assert response.status_code == HTTPStatus.OK
    assert response.json() == [
        {"id": 1, "key": "email", "value": "verified"},
        {"id": 2, "key": "phone", "value": "verified"},
        {"id": 3, "key": "document", "value": "verified"},
    ]
    assert "Total" not in response
