"""The full-info answer (login, sign-up, ``users/me``) rendered by accounts/full_info.py is
the documented ``UserWithFullInfoSerializer``'s, byte for byte."""

import datetime
import json
from http import HTTPStatus

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer

from accounts.full_info import shape, user_full_info
from accounts.models import Label, User
from accounts.serializers import LabelSerializer, UserWithFullInfoSerializer
from barong.api.fields import EntityTime
from kyc.models import DataStorage, Document, Phone, Profile
from kyc.serializers import DocumentSerializer
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


# One declaration: the serializer. What is added to it shows in the fast answer and in the
# login's query without a line anywhere else.


@pytest.fixture
def shape_read_again():
    """Each test changes the serializer; the fast path reads its shape again before and
    after (the login's statement follows the shape)."""
    shape.cache_clear()
    yield
    shape.cache_clear()


class DocumentTypeSerializer(serializers.ModelSerializer):
    created_at = EntityTime()

    class Meta:
        model = Document
        fields = ["doc_type", "doc_number", "created_at"]


def test_a_user_field_added_to_the_serializer_shows_in_the_fast_answer(
    monkeypatch, shape_read_again, rich_user
):
    fields = list(UserWithFullInfoSerializer.Meta.fields)
    fields.insert(fields.index("data"), "state_manual")
    monkeypatch.setattr(UserWithFullInfoSerializer.Meta, "fields", fields)
    shape.cache_clear()

    body = user_full_info(rich_user, csrf_token="abc123")

    assert list(body).index("state_manual") == list(body).index("data") - 1
    assert rendered(body) == serializer_answer(rich_user, "abc123")


def test_a_list_field_added_to_the_serializer_shows_in_the_login_answer(
    monkeypatch, shape_read_again, api, rich_user
):
    monkeypatch.setattr(LabelSerializer.Meta, "fields", [*LabelSerializer.Meta.fields, "id"])
    shape.cache_clear()

    response = log_in(api, rich_user.email)

    assert response.status_code == HTTPStatus.OK, response.content
    body = response.json()
    assert all("id" in label for label in body["labels"])
    assert response.content == serializer_answer(
        User.objects.get(pk=rich_user.pk), body["csrf_token"]
    )


@pytest.mark.parametrize("documents", [0, 2])
def test_a_list_added_to_the_serializer_shows_in_the_login_answer(
    monkeypatch, shape_read_again, api, rich_user, documents
):
    monkeypatch.setitem(
        UserWithFullInfoSerializer.collections,
        "documents",
        lambda: DocumentTypeSerializer(many=True, read_only=True),
    )
    shape.cache_clear()
    for number in range(documents):
        Document.objects.create(user=rich_user, doc_type="Passport", doc_number=f"AB{number}")

    response = log_in(api, rich_user.email)

    assert response.status_code == HTTPStatus.OK, response.content
    body = response.json()
    assert list(body)[-1] == "documents"
    assert [item["doc_number"] for item in body["documents"]] == [
        f"AB{number}" for number in range(documents)
    ]
    assert response.content == serializer_answer(
        User.objects.get(pk=rich_user.pk), body["csrf_token"]
    )


def test_an_output_field_the_fast_path_cannot_render_is_refused(monkeypatch, shape_read_again):
    monkeypatch.setitem(
        UserWithFullInfoSerializer.collections,
        "documents",
        lambda: DocumentSerializer(many=True, read_only=True),  # its upload is a signed URL
    )

    with pytest.raises(ImproperlyConfigured, match="UploadField"):
        shape()
