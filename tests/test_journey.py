"""One user's whole life over HTTP: sign-up to level 3 and a working HMAC API key.

Everything goes through the API as a front end, an operator and a gateway would
call it: e-mailed token, cookie session with CSRF, KYC uploads, the operator's
decision, 2FA, an API key, and the authz endpoint's JWT checked against the JWKS.
"""

import hashlib
import hmac
import time
from datetime import timedelta
from http import HTTPStatus

import jwt
import pytest
from django.utils import timezone

from tests.accounts.conftest import CommittingAPIClient, last_token
from tests.conftest import BROWSER_UA, bearer_for
from tests.factories import totp_code
from tests.kyc.conftest import pdf, png

pytestmark = pytest.mark.django_db

EMAIL = "journey@example.com"
PASSWORD = "Harbour-Falcon-Meadow-57"


def test_sign_up_to_level_three_and_a_signed_api_key(make_admin, mailoutbox):
    browser = CommittingAPIClient(HTTP_USER_AGENT=BROWSER_UA, REMOTE_ADDR="198.51.100.7")

    signed_up = browser.post(
        "/api/v2/barong/identity/users", {"email": EMAIL, "password": PASSWORD}
    )
    assert signed_up.status_code == HTTPStatus.CREATED
    assert (signed_up.json()["state"], signed_up.json()["level"]) == ("pending", 0)

    token = last_token(mailoutbox, "confirmation", to=EMAIL)
    confirmed = browser.post("/api/v2/barong/identity/users/email/confirm_code", {"token": token})
    assert (confirmed.json()["state"], confirmed.json()["level"]) == ("active", 1)

    login = browser.post("/api/v2/barong/identity/sessions", {"email": EMAIL, "password": PASSWORD})
    assert login.status_code == HTTPStatus.OK
    uid = login.json()["uid"]
    browser.credentials(HTTP_X_CSRF_TOKEN=login.json()["csrf_token"])

    browser.post("/api/v2/resource/phones", {"phone_number": "+44 7418 084106"})
    phone = browser.post(
        "/api/v2/resource/phones/verify",
        {"phone_number": "447418084106", "verification_code": "12345"},
    )
    assert phone.json()["level"] == 2

    profile = browser.post(
        "/api/v2/resource/profiles",
        {"first_name": "Grace", "last_name": "Hopper", "country": "US", "confirm": "true"},
    )
    assert profile.json()["state"] == "submitted"
    expire = (timezone.now() + timedelta(days=700)).date().isoformat()
    uploaded = browser.post(
        "/api/v2/resource/documents",
        {
            "doc_type": "Passport",
            "doc_number": "AB1234567",
            "doc_expire": expire,
            "upload[]": [png("front.png"), pdf("back.pdf")],
        },
        format="multipart",
    )
    assert uploaded.status_code == HTTPStatus.CREATED

    operator = make_admin(role="compliance")
    back_office = CommittingAPIClient(HTTP_USER_AGENT=BROWSER_UA, REMOTE_ADDR="198.51.100.8")
    back_office.credentials(HTTP_AUTHORIZATION=f"Bearer {bearer_for(operator)}")
    pending = back_office.get("/api/v2/admin/users/documents/pending")
    assert [row["uid"] for row in pending.json()] == [uid]
    decided = back_office.post(
        "/api/v2/admin/users/labels/update",
        {"uid": uid, "key": "document", "value": "verified", "scope": "private"},
    )
    assert decided.status_code == HTTPStatus.OK

    me = browser.get("/api/v2/resource/users/me").json()
    assert (me["level"], me["state"]) == (3, "active")

    from accounts.models import User

    user = User.objects.get(uid=uid)
    assert browser.post("/api/v2/resource/otp/generate_qrcode").status_code == HTTPStatus.CREATED
    enabled = browser.post("/api/v2/resource/otp/enable", {"code": totp_code(user)})
    assert enabled.status_code == HTTPStatus.CREATED
    # The next time step's code: each code is accepted once, the window allows one step ahead.
    created = browser.post(
        "/api/v2/resource/api_keys",
        {"algorithm": "HS256", "totp_code": totp_code(user, now=time.time() + 30)},
    )
    assert created.status_code == HTTPStatus.CREATED
    kid, secret = created.json()["kid"], created.json()["secret"]["data"]["value"]

    gateway = CommittingAPIClient(HTTP_USER_AGENT="gateway/1.0", REMOTE_ADDR="198.51.100.9")
    nonce = str(int(time.time() * 1000))
    signature = hmac.new(secret.encode(), (nonce + kid).encode(), hashlib.sha256).hexdigest()
    headers = {"HTTP_X_AUTH_APIKEY": kid, "HTTP_X_AUTH_NONCE": nonce}
    headers["HTTP_X_AUTH_SIGNATURE"] = signature
    allowed = gateway.get("/api/v2/auth/api/v2/barong/resource/users/me", **headers)
    assert allowed.status_code == HTTPStatus.OK, allowed.content

    minted = allowed["Authorization"].removeprefix("Bearer ")
    jwks = gateway.get("/.well-known/jwks.json").json()
    kid_header = jwt.get_unverified_header(minted)["kid"]
    key = jwt.PyJWK(next(k for k in jwks["keys"] if k["kid"] == kid_header))
    claims = jwt.decode(minted, key.key, algorithms=["RS256"], audience="barong", issuer="barong")
    assert (claims["uid"], claims["level"], claims["role"]) == (uid, 3, "member")

    replayed = gateway.get("/api/v2/auth/api/v2/barong/resource/users/me", **headers)
    assert replayed.json() == {"errors": ["authz.signature_blacklisted"]}

    nonce = str(int(time.time() * 1000) + 1)
    signature = hmac.new(secret.encode(), (nonce + kid).encode(), hashlib.sha256).hexdigest()
    admin_call = gateway.get(
        "/api/v2/auth/api/v2/barong/admin/users",
        HTTP_X_AUTH_APIKEY=kid,
        HTTP_X_AUTH_NONCE=nonce,
        HTTP_X_AUTH_SIGNATURE=signature,
    )
    assert admin_call.status_code == HTTPStatus.FORBIDDEN
    assert admin_call.json() == {"errors": ["authz.invalid_permission"]}
