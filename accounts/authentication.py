"""Who is calling the resource and admin APIs: a Bearer JWT or the session cookie."""

import jwt
from django.conf import settings
from rest_framework.authentication import BaseAuthentication
from rest_framework_simplejwt.authentication import JWTAuthentication

from accounts.sessions import ACTIVE_STATES, session_check
from barong import jwt as barong_jwt
from barong.api.errors import ApiError


def _active_user(uid: str):
    from accounts.models import User

    user = User.objects.filter(uid=uid).first()
    if user is None:
        raise ApiError("record.not_found", 404)
    # Unlike Barong, a banned or deleted user's unexpired token stops working at once.
    if user.state not in ACTIVE_STATES:
        raise ApiError("authz.user_not_active", 401)
    return user


class BearerJWTAuthentication(JWTAuthentication):
    """``Authorization: Bearer <JWT>``: RS256 by our key ring, Barong's claims, ``sub=session``.

    simplejwt parses the header; verification uses the key ring so a rotated-out key
    still verifies during rotation.
    """

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
        return _active_user(claims["uid"]), claims

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
