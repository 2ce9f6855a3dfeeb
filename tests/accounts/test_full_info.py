"""The full-info answer (login, sign-up, ``users/me``) rendered by accounts/full_info.py is
the documented ``UserWithFullInfoSerializer``'s, byte for byte."""

import datetime
import json
from http import HTTPStatus

import pytest
from django.utils import timezone
from rest_framework.renderers import JSONRenderer

from accounts.full_info import user_full_info
from accounts.models import Label, User
from accounts.serializers import UserWithFullInfoSerializer
from kyc.models import DataStorage, Phone, Profile
from tests.accounts.conftest import STRONG_PASSWORD

pytestmark = pytest.mark.django_db


def rendered(body: dict) -> bytes:
    return JSONRenderer().render(body)


def serializer_answer(user: User, csrf_token: str | None = None) -> bytes:
    context = {"csrf_token": csrf_token} if csrf_token else {}
    return rendered(UserWithFullInfoSerializer(user, context=context).data)


@pytest.fixture
def rich_user(make_user):
    """A user with a referrer, JSON data, several labels and every kind of KYC row, with
    null and non-ASCII values and timestamps that carry microseconds."""
    referrer = make_user()
    user = make_user(password=STRONG_PASSWORD)
    user.referral = referrer
    user.data = '{"language": "fr", "note": "Zoë"}'
    user.save()
    Label.objects.create(user=user, key="phone", value="verified", scope="private")
    Label.objects.create(user=user, key="tier", value="gold", scope="public")
    moment = timezone.now().replace(microsecond=123456)
    Phone.objects.create(user=user, country="FR", number="33612345678", validated_at=moment)
    Phone.objects.create(user=user, country="DE", number="4915112345678")
    Profile.objects.create(
        user=user,
        first_name="Zoë",
        last_name=None,
        dob=datetime.date(1990, 2, 3),
        address="1 rue de la Paix",
        postcode="75002",
        city="Paris",
        country="FRA",
        state="submitted",
        metadata='{"nationality": "FR"}',
    )
    Profile.objects.create(user=user)
    DataStorage.objects.create(user=user, title="address", data='{"city": "Paris"}')
    return User.objects.get(pk=user.pk)


def test_plain_rendering_equals_the_serializer_for_a_user_with_everything(rich_user):
    assert rendered(user_full_info(rich_user)) == serializer_answer(rich_user)
    assert rendered(user_full_info(rich_user, csrf_token="abc123")) == serializer_answer(
        rich_user, "abc123"
    )
    body = user_full_info(rich_user)
    assert body["referral_uid"] is not None
    assert [len(body[name]) for name in ("labels", "phones", "profiles", "data_storages")] == [
        3,
        2,
        2,
        1,
    ]
    assert body["phones"][0]["validated_at"].endswith(".123Z")
    assert body["phones"][1]["validated_at"] is None
    assert body["profiles"][0]["dob"] == "1990-02-03"
    assert body["profiles"][1]["dob"] is None


def test_plain_rendering_equals_the_serializer_for_a_bare_user(make_user):
    user = User.objects.get(pk=make_user().pk)

    assert rendered(user_full_info(user)) == serializer_answer(user)


def log_in(api, email: str):
    return api.post(
        "/api/v2/identity/sessions", {"email": email, "password": STRONG_PASSWORD}, format="json"
    )


def test_login_answer_equals_the_serializer(api, rich_user):
    response = log_in(api, rich_user.email)

    assert response.status_code == HTTPStatus.OK, response.content
    body = response.json()
    assert response.content == serializer_answer(
        User.objects.get(pk=rich_user.pk), body["csrf_token"]
    )


def test_login_answer_with_empty_lists_equals_the_serializer(api, make_user):
    user = make_user(password=STRONG_PASSWORD)

    response = log_in(api, user.email)

    assert response.status_code == HTTPStatus.OK, response.content
    body = response.json()
    assert (body["phones"], body["profiles"], body["data_storages"]) == ([], [], [])
    expected = json.loads(serializer_answer(User.objects.get(pk=user.pk), body["csrf_token"]))
    assert body == expected
    assert response.content == serializer_answer(User.objects.get(pk=user.pk), body["csrf_token"])


def test_me_answer_equals_the_serializer(auth_api, rich_user):
    response = auth_api(rich_user).get("/api/v2/resource/users/me")

    assert response.status_code == HTTPStatus.OK
    assert response.content == serializer_answer(User.objects.get(pk=rich_user.pk))
