"""Every KYC resource operation needs a valid session JWT (or cookie)."""

from http import HTTPStatus

import pytest

from accounts.models import Label
from kyc.models import DataStorage, Document, Phone, Profile

pytestmark = pytest.mark.django_db

OPERATIONS = [
    ("get", "/api/v2/resource/labels"),
    ("post", "/api/v2/resource/labels"),
    ("get", "/api/v2/resource/labels/email"),
    ("patch", "/api/v2/resource/labels/email"),
    ("delete", "/api/v2/resource/labels/email"),
    ("get", "/api/v2/resource/profiles/me"),
    ("post", "/api/v2/resource/profiles"),
    ("put", "/api/v2/resource/profiles"),
    ("get", "/api/v2/resource/documents"),
    ("post", "/api/v2/resource/documents"),
    ("get", "/api/v2/resource/phones"),
    ("post", "/api/v2/resource/phones"),
    ("post", "/api/v2/resource/phones/send_code"),
    ("post", "/api/v2/resource/phones/verify"),
    ("post", "/api/v2/resource/data_storage"),
]


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
@pytest.mark.parametrize("header", [None, "Bearer", "Bearer not.a.jwt", "Basic dXNlcjpwYXNz"])
def test_without_a_valid_token_is_401(api, member, method, path, header):
    if header:
        api.credentials(HTTP_AUTHORIZATION=header)

    response = getattr(api, method)(path, {"key": "colour", "value": "blue"})

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json() == {"errors": ["jwt.decode_and_verify"]}
    assert Label.objects.filter(user=member).count() == 1
    assert not Profile.objects.exists()
    assert not Document.objects.exists()
    assert not Phone.objects.exists()
    assert not DataStorage.objects.exists()


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_a_banned_users_token_stops_working(member, auth_api, method, path):
    from accounts.services import label_set

    member_api = auth_api(member)
    label_set(user=member, key="ban", value="by_admin", scope="private")

    response = getattr(member_api, method)(path, {"key": "colour", "value": "blue"})

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert Label.objects.filter(user=member, scope="public").count() == 0
