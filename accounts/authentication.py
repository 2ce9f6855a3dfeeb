"""Who is calling the resource and admin APIs: a Bearer JWT or the session cookie."""

from collections.abc import Callable
from typing import Any, ClassVar

import jwt
from django.conf import settings
from rest_framework.authentication import BaseAuthentication
from rest_framework_simplejwt.authentication import JWTAuthentication

from accounts.sessions import ACTIVE_STATES, session_check, user_session_key_find
from barong import jwt as barong_jwt
from barong.api.errors import ApiError

# The claims that bind a JWT the authz endpoint mints to what it was minted for, so this
# server can refuse it once that has ended (upstreams verify the signature alone).
SESSION_CLAIM = "sid"  # the session's public id (accounts.sessions.session_public_id)
API_KEY_CLAIM = "api_kid"  # the API key's kid


def _active_user(uid: str):
    from accounts.models import User

    user = User.objects.filter(uid=uid).first()
    if user is None:
        raise ApiError("record.not_found", 404)
    # Unlike Barong, a banned or deleted user's unexpired token stops working at once.
    if user.state not in ACTIVE_STATES:
        raise ApiError("authz.user_not_active", 401)
    return user


def _session_on(session_id: str, user) -> bool:
    """The session is still stored for this user and not idle past its expiry: a log-out,
    a remote log-out, a password change, a ban or a deletion ended it otherwise."""
    return user_session_key_find(user.uid, session_id=session_id) is not None


class BearerJWTAuthentication(JWTAuthentication):
    """``Authorization: Bearer <JWT>``: RS256 by our key ring, Barong's claims, ``sub=session``,
    and a binding claim whose session or API key is still on.

    simplejwt parses the header and its ``TokenBackend`` verifies (barong/jwt.py: one per
    key of the ring, so a rotated-out key still verifies during rotation). A token
    without a binding claim (minted before tokens were bound, or by anything but the
    authz endpoint) is refused.
    """

    # claim -> check(value, user): whether what the token was minted for is still on.
    # accounts checks sessions; apikeys adds API keys from its AppConfig.ready.
    bindings: ClassVar[dict[str, Callable[[str, Any], bool]]] = {SESSION_CLAIM: _session_on}

    @classmethod
    def binding_add(cls, claim: str, check: Callable[[str, Any], bool]) -> None:
        cls.bindings[claim] = check

    def authenticate(self, request):
        header = self.get_header(request)
        if header is None:
            return None
        raw = self.get_raw_token(header)
        if raw is None:
            raise ApiError("jwt.decode_and_verify", 401)
        try:
            claims = barong_jwt.decode(raw.decode("latin-1"), sub="session")
        except (jwt.InvalidTokenError, ValueError) as exc:
            raise ApiError("jwt.decode_and_verify", 401) from exc
        if not isinstance(claims.get("uid"), str):
            raise ApiError("jwt.decode_and_verify", 401)
        claim = next((name for name in self.bindings if name in claims), None)
        if claim is None:
            raise ApiError("jwt.decode_and_verify", 401)
        user = _active_user(claims["uid"])
        value = claims[claim]
        if not isinstance(value, str) or not self.bindings[claim](value, user):
            raise ApiError("authz.invalid_session", 401)
        return user, claims

    def authenticate_header(self, request):
        return 'Bearer realm="barong"'


class SessionCookieAuthentication(BaseAuthentication):
    """The ``_barong_session`` cookie, ``X-CSRF-Token`` on unsafe methods, as authz checks it."""

    def authenticate(self, request):
        if settings.SESSION_COOKIE_NAME not in request.COOKIES:
            return None
        uid = session_check(request._request)
        return _active_user(uid), None

    def authenticate_header(self, request):
        return 'Bearer realm="barong"'
