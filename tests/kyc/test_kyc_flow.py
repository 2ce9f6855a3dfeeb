"""A member goes through the whole KYC chain to level 3 over the API."""

from datetime import timedelta
from http import HTTPStatus

import pytest
from django.utils import timezone

from accounts.services import label_set
from kyc.phones import MOCK_CODE
from tests.accounts.conftest import CommittingAPIClient
from tests.conftest import BROWSER_UA, bearer_for
from tests.kyc.conftest import pdf, png

pytestmark = pytest.mark.django_db


def test_email_phone_profile_document_then_operator_verification_is_level_three(member, auth_api):
    api = auth_api(member)
    assert (member.level, member.state) == (1, "active")

    api.post("/api/v2/resource/phones", {"phone_number": "+1 202 555 0123"})
    verified = api.post(
        "/api/v2/resource/phones/verify",
        {"phone_number": "12025550123", "verification_code": MOCK_CODE},
    )
    assert verified.json()["level"] == 2

    profile = api.post(
        "/api/v2/resource/profiles",
        {
            "first_name": "Ada",
            "last_name": "Lovelace",
            "dob": "1990-12-10",
            "address": "12 St James's Square",
            "postcode": "SW1Y 4LE",
            "city": "London",
            "country": "GBR",
            "confirm": "true",
        },
    )
    assert profile.json()["state"] == "submitted"

    expire = (timezone.now() + timedelta(days=900)).date().isoformat()
    uploaded = api.post(
        "/api/v2/resource/documents",
        {
            "doc_type": "Passport",
            "doc_number": "925076473",
            "doc_expire": expire,
            "upload[]": [png("front.png"), pdf("back.pdf")],
        },
    )
    assert uploaded.status_code == HTTPStatus.CREATED
    me = api.get("/api/v2/resource/users/me").json()
    labels = {(x["key"], x["value"]) for x in me["labels"]}
    assert {("email", "verified"), ("phone", "verified"), ("profile", "submitted"),
            ("document", "pending")} <= labels  # fmt: skip
    assert me["level"] == 2

    label_set(user=member, key="document", value="verified", scope="private")  # the operator

    member.refresh_from_db()
    assert (member.level, member.state) == (3, "active")
    assert api.get("/api/v2/resource/users/me").json()["level"] == 3
    assert len(api.get("/api/v2/resource/documents").json()) == 2


def test_sign_up_free_user_without_email_stays_at_level_zero(make_user, auth_api):
    user = make_user(verified=False)
    api = auth_api(user)

    api.post("/api/v2/resource/phones", {"phone_number": "+380501234567"})
    api.post(
        "/api/v2/resource/phones/verify",
        {"phone_number": "+380501234567", "verification_code": MOCK_CODE},
    )
    label_set(user=user, key="document", value="verified", scope="private")

    user.refresh_from_db()
    assert (user.level, user.state) == (0, "pending")


def _committing(user) -> CommittingAPIClient:
    """A Bearer client whose requests commit, so the e-mails they cause are sent."""
    client = CommittingAPIClient(HTTP_USER_AGENT=BROWSER_UA, REMOTE_ADDR="203.0.113.10")
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {bearer_for(user)}")
    return client


def _mail_level(message) -> int:
    """The level a label e-mail states, from its plain-text body."""
    line = next(x for x in message.body.splitlines() if "account level is" in x)
    return int(line.split("account level is", 1)[1].split()[0])


def test_label_emails_state_the_level_after_the_change(member, make_admin, mailoutbox):
    """The phone e-mail says level 2 and the document approval 3, as the API does then."""
    api = _committing(member)
    api.post("/api/v2/resource/phones", {"phone_number": "+1 202 555 0123"})
    mailoutbox.clear()

    verified = api.post(
        "/api/v2/resource/phones/verify",
        {"phone_number": "12025550123", "verification_code": MOCK_CODE},
    )

    assert verified.json()["level"] == 2
    assert [m.subject for m in mailoutbox] == ["Phone verified"]
    assert _mail_level(mailoutbox[0]) == 2
    expire = (timezone.now() + timedelta(days=900)).date().isoformat()
    uploaded = api.post(
        "/api/v2/resource/documents",
        {"doc_type": "Passport", "doc_number": "925076473", "doc_expire": expire,
         "upload[]": [png("front.png")]},
    )  # fmt: skip
    assert uploaded.status_code == HTTPStatus.CREATED
    mailoutbox.clear()

    approved = _committing(make_admin()).post(
        "/api/v2/admin/users/labels/update",
        {"uid": member.uid, "key": "document", "value": "verified", "scope": "private"},
    )

    assert approved.status_code == HTTPStatus.OK
    assert api.get("/api/v2/resource/users/me").json()["level"] == 3
    assert [m.subject for m in mailoutbox] == ["Label Updated"]
    assert _mail_level(mailoutbox[0]) == 3
    assert "account state is active" in mailoutbox[0].body
