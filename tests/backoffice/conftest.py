"""Back-office fixtures: a logged-in Django test client per Barong role, and KYC data."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from accounts.models import User
from accounts.services import label_set
from kyc.models import Document, Profile
from tests.conftest import BROWSER_UA, rows_once
from tests.factories import make_admin_user

OPERATOR_ROLES = ["superadmin", "admin", "compliance", "accountant", "technical", "support"]


@pytest.fixture
def operator_client(make_admin):
    """``operator_client(role)`` → (client logged in to /admin/, the operator)."""

    def login(role: str = "superadmin", **kwargs):
        operator = make_admin(role=role, **kwargs)
        client = Client(HTTP_USER_AGENT=BROWSER_UA, REMOTE_ADDR="203.0.113.20")
        client.force_login(operator)
        return client, operator

    return login


def _one_operator_per_role() -> dict[str, int]:
    return {role: make_admin_user(role=role).pk for role in OPERATOR_ROLES}


@pytest.fixture(scope="module")
def _operators(django_db_setup, django_db_blocker):
    """An operator of each role, built once per module that asks (not in browser modules:
    their flush would empty the rows)."""
    yield from rows_once(django_db_blocker, _one_operator_per_role)


@pytest.fixture
def role_client(_operators):
    """``role_client(role)`` → a client logged in to /admin/ as that role's operator, for
    tests that only need an operator of a role (``operator_client`` makes a new one)."""

    def login(role: str) -> Client:
        client = Client(HTTP_USER_AGENT=BROWSER_UA, REMOTE_ADDR="203.0.113.20")
        client.force_login(User.objects.get(pk=_operators[role]))
        return client

    return login


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


def document_add(user, *, name: str = "passport.png", content: bytes | None = None) -> Document:
    """A stored upload and the ``document: pending`` label, as an upload leaves them."""
    document = Document(user=user, doc_type="Passport", doc_number="AB 123456")
    document.upload.save(name, SimpleUploadedFile(name, content or png_bytes()), save=False)
    document.save()
    label_set(user=user, key="document", value="pending", scope="private")
    return document


@pytest.fixture
def kyc_user(make_user):
    """A level-2 user (e-mail and phone verified) waiting with one passport scan."""
    user = make_user(labels={"phone": "verified"})
    Profile.objects.create(user=user, first_name="Ada", last_name="Lovelace", state="submitted")
    document_add(user)
    user.refresh_from_db()
    return user
