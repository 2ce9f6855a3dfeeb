"""Passkeys (WebAuthn) as a second factor beside TOTP, with the ``webauthn`` library.

Registration and login are two steps each: the server answers options carrying a
random challenge, the browser's authenticator signs it, the server verifies. The
challenge waits in the cache (``BARONG_WEBAUTHN_CHALLENGE_TTL``): a registration's under
the logged-in user, a login's under a random flow id that only the caller who passed the
password holds. The first verification that reads it takes it out, so an assertion
never verifies twice. The relying party id and the accepted origins come from settings
(``BARONG_WEBAUTHN_RP_ID``, ``BARONG_WEBAUTHN_ORIGIN``); the stored sign counter must
grow with every assertion of an authenticator that counts.
"""

import hashlib
import json
import re
import secrets
from typing import Any

import webauthn
from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from webauthn.helpers import bytes_to_base64url, options_to_json
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from accounts.events import session_event_created
from accounts.models import User, WebAuthnCredential
from accounts.notifications import login_from_new_device, security_notify
from accounts.services.login_policy import LoginAttempt, login_attempt, login_failed
from accounts.sessions import ACTIVE_STATES
from activities.services import activity_record, admin_activity_record
from barong.api.errors import ApiError
from barong.ratelimit import rate_limit_hit

MAX_CREDENTIALS = 10
CREDENTIAL_ID_MAX = 1400  # the column's length; ids of real authenticators are far shorter
CHALLENGE_BYTES = 64  # as the webauthn library draws them
CREDENTIAL_ERRORS = (WebAuthnException, ValueError, TypeError, KeyError, AttributeError)


def _challenge_key(kind: str, uid: str) -> str:
    return f"webauthn:{kind}:{uid}"


def _challenge_store(kind: str, uid: str, challenge: bytes) -> None:
    cache.set(_challenge_key(kind, uid), challenge, settings.BARONG_WEBAUTHN_CHALLENGE_TTL)


def _challenge_take(kind: str, uid: str) -> bytes | None:
    """The pending challenge, taken out: of two concurrent readers only one gets it."""
    key = _challenge_key(kind, uid)
    challenge = cache.get(key)
    if challenge is None or not cache.delete(key):
        return None
    return challenge


def _descriptors(user: User) -> list[PublicKeyCredentialDescriptor]:
    return [
        PublicKeyCredentialDescriptor(id=webauthn.base64url_to_bytes(row.credential_id))
        for row in WebAuthnCredential.objects.filter(user=user)
    ]


CREDENTIAL_ID_RE = re.compile(r"[A-Za-z0-9_-]+")


def _credential_id(credential: Any) -> str:
    """The ``id`` the browser sent, or "" when it is not a base64url id (WebAuthn's form):
    anything else, a NUL byte included, never reaches a query."""
    if not isinstance(credential, dict):
        return ""
    value = credential.get("id") or credential.get("rawId")
    if not isinstance(value, str) or len(value) > CREDENTIAL_ID_MAX:
        return ""
    return value if CREDENTIAL_ID_RE.fullmatch(value) else ""


# ---------------------------------------------------------------- registration


def webauthn_register_options(*, user: User) -> dict:
    """Options for ``navigator.credentials.create()``; the challenge waits in the cache."""
    rate_limit_hit("webauthn_account", user.uid, error_key="resource.webauthn.too_many_requests")
    if WebAuthnCredential.objects.filter(user=user).count() >= MAX_CREDENTIALS:
        raise ApiError("resource.webauthn.too_many_credentials")
    options = webauthn.generate_registration_options(
        rp_id=settings.BARONG_WEBAUTHN_RP_ID,
        rp_name=settings.BARONG_WEBAUTHN_RP_NAME,
        user_id=user.uid.encode(),
        user_name=user.email,
        user_display_name=user.email,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED,
            user_verification=UserVerificationRequirement.PREFERRED,
        ),
        exclude_credentials=_descriptors(user),
    )
    _challenge_store("register", user.uid, options.challenge)
    return {"publicKey": json.loads(options_to_json(options))}


def webauthn_register_verify(
    *, user: User, credential: Any, name: str = "", request: HttpRequest | None = None
) -> WebAuthnCredential:
    """Verify the new credential against the pending challenge and keep its public key."""
    rate_limit_hit("webauthn_account", user.uid, error_key="resource.webauthn.too_many_requests")
    challenge = _challenge_take("register", user.uid)
    if challenge is None:
        raise ApiError("resource.webauthn.challenge_expired")
    try:
        verified = webauthn.verify_registration_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=settings.BARONG_WEBAUTHN_RP_ID,
            expected_origin=settings.BARONG_WEBAUTHN_ORIGINS,
        )
    except CREDENTIAL_ERRORS as exc:
        activity_record(
            user=user,
            topic="otp",
            action="add passkey",
            result="failed",
            request=request,
            data={"reason": str(exc)[:200]},
        )
        raise ApiError("resource.webauthn.invalid_credential") from exc
    transports = credential.get("response", {}).get("transports") or []
    try:
        with transaction.atomic():
            row = WebAuthnCredential.objects.create(
                user=user,
                credential_id=bytes_to_base64url(verified.credential_id),
                public_key=verified.credential_public_key,
                sign_count=verified.sign_count,
                transports=[str(t)[:32] for t in transports if isinstance(t, str)][:8],
                name=name.strip()[:64],
            )
    except IntegrityError as exc:
        raise ApiError("resource.webauthn.already_registered") from exc
    activity_record(user=user, topic="otp", action="add passkey", request=request)
    security_notify(
        user=user, notice="security_passkey_added", request=request, record={"name": row.name}
    )
    return row


def webauthn_credentials(*, user: User) -> QuerySet[WebAuthnCredential]:
    """The user's passkeys, newest first; counted per user, as the other account reads."""
    rate_limit_hit(
        "webauthn_read_account", user.uid, error_key="resource.webauthn.too_many_requests"
    )
    return WebAuthnCredential.objects.filter(user=user).order_by("-created_at", "-id")


def _credentials_remove(*, user: User, credential_id: str | None) -> int:
    """Delete one passkey of ``user`` (``credential_id``) or all: the one removal path."""
    rows = WebAuthnCredential.objects.filter(user=user)
    if credential_id is not None:
        rows = rows.filter(credential_id=credential_id)
    deleted, _ = rows.delete()
    return deleted


def webauthn_credential_delete(
    *, user: User, credential_id: str, request: HttpRequest | None = None
) -> None:
    """Remove one of the user's own passkeys (another user's id is not found)."""
    rate_limit_hit(
        "webauthn_delete_account", user.uid, error_key="resource.webauthn.too_many_requests"
    )
    if not _credentials_remove(user=user, credential_id=credential_id):
        raise ApiError("resource.webauthn.not_found", 404)
    activity_record(user=user, topic="otp", action="remove passkey", request=request)


def credential_id_short(credential_id: str) -> str:
    """Enough of a credential id to tell passkeys apart on a page or in an audit row."""
    return (
        credential_id if len(credential_id) <= 12 else f"{credential_id[:6]}…{credential_id[-4:]}"
    )


def webauthn_credentials_admin_delete(
    *,
    admin: User,
    user: User,
    credential_id: str | None = None,
    request: HttpRequest | None = None,
) -> int:
    """An operator removes one passkey of a user, or all of them (a lost device); audited.

    The admin API and the back-office both come here, through the same removal as the
    user's own delete.
    """
    from accounts.services.operators import user_admin_guard

    user_admin_guard(admin=admin, user=user, action="delete")
    deleted = _credentials_remove(user=user, credential_id=credential_id)
    if not deleted:
        raise ApiError("admin.webauthn.doesnt_exist", 404)
    data: dict[str, Any] = {"uid": user.uid, "passkeys": deleted}
    if credential_id is not None:
        data["credential_id"] = credential_id_short(credential_id)
    admin_activity_record(
        admin=admin, topic="users", action="delete", target=user, request=request, data=data
    )
    return deleted


# ---------------------------------------------------------------- login
#
# A passkey login is a flow the caller holds: the options step (after the password) keeps
# the challenge under a random flow id and answers that id; the verify step names it. The
# e-mail is not an input of verify, so a stranger who knows an address can neither read,
# replace nor use up the owner's challenge, nor tell an account from none, nor make
# failures count against the account. Each options call starts its own flow: a user's
# flows in other tabs or devices stay valid until used or expired.

FLOW_ID_MAX = 128  # token_urlsafe(32) is 43 characters; anything longer is not ours
# The doors a flow may belong to: it is good only at the door that started it, so an API
# flow never signs anyone in to the back-office (which starts flows for operators only).
DOORS = ("api", "backoffice")


def _flow_key(flow_id: str) -> str:
    """The cache key of a flow: a hash, so the bearer id itself is not stored anywhere."""
    return "webauthn:flow:" + hashlib.sha256(flow_id.encode()).hexdigest()


def webauthn_login_options(*, user: User, account: str, door: str = "api") -> dict:
    """Options for ``navigator.credentials.get()`` once the password was right, and the id
    of the flow that holds their challenge (``account``: the login policy's subject;
    ``door``: where the flow may be completed, one of ``DOORS``)."""
    if door not in DOORS:
        raise ValueError(f"unknown login door {door!r}")
    challenge, public_key = webauthn_random_options(
        user=user, error_key="identity.session.webauthn_not_registered"
    )
    flow_id = secrets.token_urlsafe(32)
    flow = {"uid": user.uid, "challenge": challenge, "account": account, "door": door}
    cache.set(_flow_key(flow_id), flow, settings.BARONG_WEBAUTHN_CHALLENGE_TTL)
    return {"flow_id": flow_id, "publicKey": public_key}


def webauthn_login_flow_take(*, flow_id: str) -> dict | None:
    """The flow named ``flow_id``, taken out (one verify per flow, even concurrently);
    None for an unknown, expired, used or malformed id."""
    if not isinstance(flow_id, str) or not flow_id or len(flow_id) > FLOW_ID_MAX:
        return None
    key = _flow_key(flow_id)
    flow = cache.get(key)
    if not isinstance(flow, dict) or not cache.delete(key):  # of two readers, one deletes
        return None
    return flow


def webauthn_random_options(*, user: User, error_key: str) -> tuple[bytes, dict]:
    """(a fresh random challenge, the options for ``navigator.credentials.get()`` over it
    and the user's passkeys, ``webauthn_assertion_options``); ``error_key`` (403) when the
    user has none. The login and the step-up (accounts/services/step_up.py) start here."""
    challenge = secrets.token_bytes(CHALLENGE_BYTES)
    options = webauthn_assertion_options(user=user, challenge=challenge)
    if options is None:
        raise ApiError(error_key, 403)
    return challenge, options["publicKey"]


def _login_failed(user: User, reason: str, request: HttpRequest | None) -> ApiError:
    activity_record(
        user=user,
        topic="session",
        action="login::webauthn",
        result="failed",
        request=request,
        data={"reason": reason},
    )
    return ApiError("identity.session.invalid_webauthn", 403)


def webauthn_login_verify(
    *, flow: dict, credential: Any, request: HttpRequest | None = None
) -> User:
    """The assertion of one of the flow user's passkeys over the flow's challenge logs in."""
    user = User.objects.filter(uid=flow["uid"]).first()
    if user is None or user.state not in ACTIVE_STATES:
        raise ApiError("identity.session.invalid_webauthn", 403)
    refused = webauthn_assertion_verify(
        user=user, credential=credential, challenge=flow["challenge"]
    )
    if refused:
        raise _login_failed(user, refused, request)
    new_device = login_from_new_device(user=user, request=request)
    activity_record(user=user, topic="session", action="login::webauthn", request=request)
    session_event_created(user=user, request=request, new_device=new_device)
    return user


def webauthn_login(
    *, request: HttpRequest, flow_id: Any, credential: Any, door: str = "api"
) -> tuple[User, LoginAttempt]:
    """The verify step of every door, under the one login policy: the flow named
    ``flow_id`` is taken out whatever the outcome; the caller's address is counted, and
    a failed assertion in a flow the caller holds counts against its account.

    Returns the user and the policy's attempt, whose counters the door resets when it
    opens its session (``login_reset_ops``, ``login_succeeded``).
    """
    flow = webauthn_login_flow_take(flow_id=flow_id)
    if flow is not None and flow.get("door", "api") != door:
        flow = None  # another door's flow: as unknown here, and used up
    # Every call counts against the address; only a held flow (its holder passed the
    # password) names an account, whose failure budgets then apply as at the password.
    attempt = login_attempt(
        request=request, account=flow["account"] if flow else None, captcha=False
    )
    if flow is None:
        raise ApiError("identity.session.invalid_webauthn", 403)
    try:
        user = webauthn_login_verify(flow=flow, credential=credential, request=request)
    except ApiError:
        login_failed(attempt)
        raise
    return user, attempt


# ---------------------------------------------------------------- assertions over a given challenge
#
# A confirmation bound to an operation (management/confirmations.py) asks for an assertion
# whose challenge is the operation's hash, not a random one: the authenticator then signs
# what the user was shown. Single use is the caller's (the confirmation leaves its pending
# state once); the sign counter is checked as at login.


def webauthn_assertion_options(*, user: User, challenge: bytes) -> dict | None:
    """Options for ``navigator.credentials.get()`` over ``challenge``, limited to the user's
    passkeys; None when the user has none."""
    descriptors = _descriptors(user)
    if not descriptors:
        return None
    options = webauthn.generate_authentication_options(
        rp_id=settings.BARONG_WEBAUTHN_RP_ID,
        challenge=challenge,
        allow_credentials=descriptors,
        user_verification=UserVerificationRequirement.PREFERRED,
    )
    return {"publicKey": json.loads(options_to_json(options))}


def webauthn_assertion_verify(*, user: User, credential: Any, challenge: bytes) -> str | None:
    """Why the assertion of one of ``user``'s passkeys over ``challenge`` is refused, or
    None when it verifies (the stored sign counter then moves on, compare-and-set)."""
    row = WebAuthnCredential.objects.filter(user=user, credential_id=_credential_id(credential))
    stored = row.first()
    if stored is None:
        return "Unknown passkey"
    try:
        verified = webauthn.verify_authentication_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=settings.BARONG_WEBAUTHN_RP_ID,
            expected_origin=settings.BARONG_WEBAUTHN_ORIGINS,
            credential_public_key=bytes(stored.public_key),
            credential_current_sign_count=stored.sign_count,
        )
    except CREDENTIAL_ERRORS as exc:
        return f"Invalid assertion: {str(exc)[:160]}"
    moved = row.filter(sign_count=stored.sign_count).update(
        sign_count=verified.new_sign_count, last_used_at=timezone.now()
    )
    return None if moved else "Sign counter did not advance"
