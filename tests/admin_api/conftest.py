"""Admin API fixtures: operators of every seeded role with Bearer clients, KYC'd users."""

import itertools
from datetime import date

import pytest

from kyc.models import DataStorage, Document, Phone, Profile
from kyc.services import label_set, profile_create

ADMIN = "/api/v2/admin"
ROLES = ["superadmin", "admin", "accountant", "compliance", "technical", "support", "member"]
_numbers = itertools.count(1)


@pytest.fixture
def operator(make_admin, auth_api):
    """``operator(role)`` → (user, Bearer client) for an active operator of that role."""

    def build(role: str = "superadmin"):
        user = make_admin(role=role)
        return user, auth_api(user)

    return build


@pytest.fixture
def superadmin(operator):
    return operator("superadmin")


@pytest.fixture
def sa_api(superadmin):
    return superadmin[1]


@pytest.fixture
def admin_api(operator):
    return operator("admin")[1]


def submitted_profile(user, **fields) -> Profile:
    """A profile the user sent for review (RS-11 with ``confirm=true``)."""
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
