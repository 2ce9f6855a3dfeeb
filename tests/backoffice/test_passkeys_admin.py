"""The user page lists a user's passkeys and removes them through the admin API's service."""

import json
from datetime import timedelta
from http import HTTPStatus

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import WebAuthnCredential
from activities.models import Activity
from tests.conftest import BROWSER_UA
from tests.factories import DEFAULT_PASSWORD
from tests.security.authenticator import SoftAuthenticator
from tests.security.test_passkeys_api import register

pytestmark = pytest.mark.django_db

LOGIN = "/api/v2/identity/sessions"


def _page(user) -> str:
    return f"/admin/accounts/user/{user.pk}/change/"


def _remove_url(user, credential_id: str) -> str:
    return f"/admin/accounts/user/{user.pk}/passkeys/{credential_id}/remove/"


def passkey_add(user, number: int = 1, **fields) -> WebAuthnCredential:
    """A stored passkey row (its key is never read by the back-office)."""
    return WebAuthnCredential.objects.create(
        user=user,
        credential_id=f"Q3JlZGVudGlhbC1pZC0{number:04d}-of-a-yubikey_x",
        public_key=b"\x01public-key-bytes",
        **{"name": f"key {number}", **fields},
    )


def _admin_rows(user):
    return Activity.objects.filter(category="admin", target_uid=user.uid).order_by("id")


def test_change_page_lists_passkeys_without_anything_secret(operator_client, make_user):
    client, _ = operator_client("support")
    member = make_user()
    used = timezone.now() - timedelta(days=2)
    row = passkey_add(member, name="<b>YubiKey</b>", sign_count=42, last_used_at=used)
    passkey_add(make_user(), number=2, name="Somebody else's")

    body = client.get(_page(member)).content.decode()

    assert "&lt;b&gt;YubiKey&lt;/b&gt;" in body
    assert "<b>YubiKey</b>" not in body
    assert ">42<" in body
    assert f"<code>{row.credential_id[:6]}…{row.credential_id[-4:]}</code>" in body
    assert "Somebody else" not in body
    assert "public-key-bytes" not in body
    assert "cHVibGlj" not in body  # nor the key in base64


def test_a_user_without_passkeys_shows_a_dash(operator_client, make_user):
    client, _ = operator_client("support")
    member = make_user()

    response = client.get(_page(member))

    assert response.status_code == HTTPStatus.OK
    assert "/passkeys/" not in response.content.decode()


def test_the_page_costs_the_same_queries_with_one_passkey_or_ten(operator_client, make_user):
    client, _ = operator_client("admin")
    member = make_user()
    passkey_add(member)
    client.get(_page(member))  # warm the per-process caches
    with CaptureQueriesContext(connection) as one:
        assert client.get(_page(member)).status_code == HTTPStatus.OK
    for number in range(2, 11):
        passkey_add(member, number=number)

    with CaptureQueriesContext(connection) as ten:
        body = client.get(_page(member)).content.decode()

    assert body.count("/passkeys/") == 10
    assert len(ten.captured_queries) == len(one.captured_queries)


def test_remove_one_from_the_page_is_audited_and_the_password_works_again(
    operator_client, make_user, auth_api, settings
):
    settings.BARONG_WEBAUTHN_RP_ID = "localhost"
    settings.BARONG_WEBAUTHN_ORIGINS = ["http://localhost:8000"]
    client, operator = operator_client("admin")
    member = make_user()
    authenticator = SoftAuthenticator()
    register(auth_api(member), authenticator)
    browser = APIClient(HTTP_USER_AGENT=BROWSER_UA)
    credentials = {"email": member.email, "password": DEFAULT_PASSWORD}
    assert browser.post(LOGIN, credentials).status_code == HTTPStatus.FORBIDDEN
    url = _remove_url(member, authenticator.id)
    assert url in client.get(_page(member)).content.decode()

    assert client.get(url).status_code == HTTPStatus.FOUND  # a GET changes nothing
    assert WebAuthnCredential.objects.filter(user=member).exists()
    response = client.post(url, follow=True)

    assert f"A passkey of {member.email} removed." in response.content.decode()
    assert not WebAuthnCredential.objects.filter(user=member).exists()
    assert browser.post(LOGIN, credentials).status_code == HTTPStatus.OK
    [audit] = _admin_rows(member)
    assert (audit.user, audit.topic, audit.action) == (operator, "users", "delete")
    data = json.loads(audit.data)
    assert data["passkeys"] == 1
    assert data["credential_id"] == f"{authenticator.id[:6]}…{authenticator.id[-4:]}"


def test_remove_one_keeps_the_others(operator_client, make_user):
    client, _ = operator_client("admin")
    member = make_user()
    first, second = passkey_add(member), passkey_add(member, number=2)

    client.post(_remove_url(member, first.credential_id))

    assert list(WebAuthnCredential.objects.filter(user=member)) == [second]


def test_the_action_removes_all_passkeys_of_the_selected_users(operator_client, make_user):
    client, operator = operator_client("admin")
    member, other, bare = make_user(), make_user(), make_user()
    passkey_add(member), passkey_add(member, number=2), passkey_add(other, number=3)

    response = client.post(
        "/admin/accounts/user/",
        {"action": "remove_passkeys", "_selected_action": [member.pk, other.pk, bare.pk]},
        follow=True,
    )

    body = response.content.decode()
    assert "Passkeys removed for 2 user(s)." in body
    assert f"{bare.email}: not changed (admin.webauthn.doesnt_exist)" in body.lower()
    assert not WebAuthnCredential.objects.exists()
    assert [json.loads(r.data)["passkeys"] for r in _admin_rows(member)] == [2]
    assert _admin_rows(member)[0].user == operator
    assert not _admin_rows(bare).exists()


@pytest.mark.parametrize("credential_id", ["AAAA", "x" * 2000, "<script>"])
def test_unknown_passkey_is_a_message_not_an_error(operator_client, make_user, credential_id):
    client, _ = operator_client("admin")
    member = make_user()
    row = passkey_add(member)

    response = client.post(_remove_url(member, credential_id), follow=True)

    assert response.status_code == HTTPStatus.OK
    assert "Passkey not removed (admin.webauthn.doesnt_exist)" in response.content.decode()
    assert WebAuthnCredential.objects.filter(pk=row.pk).exists()
    assert not _admin_rows(member).exists()


def test_nul_and_unknown_user_are_refused(operator_client, make_user):
    client, _ = operator_client("admin")
    member = make_user()
    passkey_add(member)

    assert client.post(_remove_url(member, "%00")).status_code == HTTPStatus.BAD_REQUEST
    missing = f"/admin/accounts/user/999999/passkeys/{member.pk}/remove/"
    assert client.post(missing).status_code == HTTPStatus.NOT_FOUND
    assert WebAuthnCredential.objects.filter(user=member).exists()


def test_read_only_role_cannot_remove(operator_client, make_user):
    client, _ = operator_client("support")
    member = make_user()
    row = passkey_add(member)

    response = client.post(_remove_url(member, row.credential_id))
    client.post(
        "/admin/accounts/user/",
        {"action": "remove_passkeys", "_selected_action": [member.pk]},
    )

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert WebAuthnCredential.objects.filter(pk=row.pk).exists()
    assert not _admin_rows(member).exists()


def test_a_member_cannot_reach_the_page_nor_remove(make_user):
    member, victim = make_user(), make_user()
    row = passkey_add(victim)
    client = APIClient(HTTP_USER_AGENT=BROWSER_UA)
    client.force_login(member)

    page = client.get(_page(victim))
    removal = client.post(_remove_url(victim, row.credential_id))

    assert page.status_code == HTTPStatus.FOUND
    assert "/admin/login/" in page["Location"]
    assert removal.status_code == HTTPStatus.FOUND
    assert "/admin/login/" in removal["Location"]
    assert WebAuthnCredential.objects.filter(pk=row.pk).exists()


def test_an_admin_cannot_remove_a_superadmins_passkeys(operator_client, make_user):
    client, _ = operator_client("admin")
    boss = make_user(role="superadmin")
    row = passkey_add(boss)

    response = client.post(_remove_url(boss, row.credential_id), follow=True)

    assert "admin.user.superadmin_change" in response.content.decode()
    assert WebAuthnCredential.objects.filter(pk=row.pk).exists()
