"""Admin API fixtures: operators of every seeded role with Bearer clients, KYC'd users."""

import itertools
from datetime import date

import pytest

from accounts.services import label_set
from kyc.models import DataStorage, Document, Phone, Profile
from kyc.services import profile_create

ADMIN = "/api/v2/admin"
ROLES = ["superadmin", "admin", "accountant", "compliance", "technical", "support", "member"]
_numbers = itertools.count(1)


@pytest.fixture
def make_operator(make_admin, auth_api):
    """``make_operator(role)`` → (user, Bearer client) for an active operator of that role."""

    def build(role: str = "superadmin"):
        user = make_admin(role=role)
        return user, auth_api(user)

    return build


@pytest.fixture
def sa_api(superadmin, auth_api):
    """The ``superadmin`` operator's Bearer client."""
    return auth_api(superadmin)


@pytest.fixture
def admin_api(make_operator):
    """The Bearer client of an operator with the ``admin`` role (not a superadmin)."""
    return make_operator("admin")[1]


def submitted_profile(user, **fields) -> Profile:
    """A profile the user sent for review (POST /resource/profiles with ``confirm=true``)."""
    values = {"first_name": "Ada", "last_name": "Lovelace", "country": "GB", **fields}
    return profile_create(user=user, fields=values, confirm=True)


def full_kyc(user) -> None:
    """Give a user one of everything UserWithKYC shows.

    Phones, documents and data storage rows are written directly: their services need
    SMS codes and uploads that these admin tests do not exercise.
    """
    submitted_profile(user)
    label_set(user=user, key="tier", value="gold", description="vip")
    label_set(user=user, key="document", value="pending", scope="private")
    number = f"4479460{next(_numbers):05d}"
    Phone.objects.create(user=user, country="GB", number=number)
    Document.objects.create(
        user=user,
        upload="uploads/document/upload/x/passport.png",
        doc_type="Passport",
        doc_number="AB123",
        doc_expire=date(2040, 1, 1),
    )
    DataStorage.objects.create(user=user, title="personal", data='{"a": 1}')
