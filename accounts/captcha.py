"""Captcha checks for the identity endpoints: reCAPTCHA v2 and GeeTest v3.

``BARONG_CAPTCHA=none`` turns every check off. Otherwise only the endpoints named in
``BARONG_CAPTCHA_PROTECTED_ENDPOINTS`` (``user_create``, ``session_create``,
``password_reset``, ``email_confirmation``) are checked. Provider outages fail closed.
"""

import hashlib
import json
import logging
from typing import Any

import requests
from django.conf import settings

from barong.api.errors import ApiError
from barong.api.parsers import json_refusal
from barong.crypto import constant_time_equals

logger = logging.getLogger(__name__)

GEETEST_FIELDS = ("geetest_challenge", "geetest_validate", "geetest_seccode")
MAX_FIELD_LENGTH = 4096


def _md5(text: str) -> str:
    # GeeTest's protocol is built on MD5; it is not used here as a password hash.
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def _blank(response: Any) -> bool:
    if response is None:
        return True
    if isinstance(response, str):
        return not response.strip()
    if isinstance(response, dict):
        return not response
    return False


def _json_or_text(body: str) -> Any:
    """GeeTest answers JSON with ``json_format=1`` and bare text otherwise."""
    if body.startswith("{"):
        try:
            return json.loads(body)
        except ValueError:
            return body
    return body


def _failed() -> ApiError:
    return ApiError("identity.captcha.verification_failed", 422)


def recaptcha_verify(response: Any) -> None:
    """Google's siteverify must answer ``success: true`` for this response token."""
    if not isinstance(response, str) or len(response) > MAX_FIELD_LENGTH:
        raise _failed()
    try:
        answer = requests.post(
            settings.BARONG_RECAPTCHA_VERIFY_URL,
            data={"secret": settings.BARONG_RECAPTCHA_SECRET_KEY, "response": response},
            timeout=settings.BARONG_CAPTCHA_TIMEOUT,
        )
        answer.raise_for_status()
        verdict = answer.json()
    except (requests.RequestException, ValueError):
        logger.warning("reCAPTCHA verification unavailable", exc_info=True)
        raise _failed() from None
    if not isinstance(verdict, dict) or verdict.get("success") is not True:
        raise _failed()


def _geetest_fields(response: Any) -> dict[str, str]:
    """The three strings GeeTest's widget returns; a JSON text of them is accepted too."""
    if isinstance(response, str):
        if json_refusal(response.encode(errors="replace")) is not None:
            raise ApiError("identity.captcha.mandatory_fields", 400)
        try:
            response = json.loads(response)
        except ValueError:
            raise ApiError("identity.captcha.mandatory_fields", 400) from None
    if not isinstance(response, dict):
        raise ApiError("identity.captcha.mandatory_fields", 400)
    fields = {name: response.get(name) for name in GEETEST_FIELDS}
    if not all(isinstance(v, str) and 0 < len(v) <= MAX_FIELD_LENGTH for v in fields.values()):
        raise ApiError("identity.captcha.mandatory_fields", 400)
    if not all(v.isascii() for v in fields.values()):  # GeeTest's values are hex and ASCII
        raise _failed()
    return fields


def geetest_verify(response: Any) -> None:
    """``validate`` must be md5(key + "geetest" + challenge), then GeeTest must vouch for it."""
    fields = _geetest_fields(response)
    challenge = fields["geetest_challenge"]
    expected = _md5(f"{settings.BARONG_GEETEST_KEY}geetest{challenge}")
    if not constant_time_equals(fields["geetest_validate"], expected):
        raise _failed()
    seccode = fields["geetest_seccode"]
    try:
        answer = requests.post(
            f"{settings.BARONG_GEETEST_API_URL.rstrip('/')}/validate.php",
            data={
                "seccode": seccode,
                "challenge": challenge,
                "captchaid": settings.BARONG_GEETEST_ID,
                "json_format": "1",
                "sdk": "barong-django",
            },
            timeout=settings.BARONG_CAPTCHA_TIMEOUT,
        )
        answer.raise_for_status()
        body = answer.text.strip()
    except requests.RequestException:
        logger.warning("GeeTest verification unavailable", exc_info=True)
        raise _failed() from None
    parsed = _json_or_text(body)
    vouched = parsed.get("seccode") if isinstance(parsed, dict) else parsed
    if not isinstance(vouched, str) or not constant_time_equals(vouched, _md5(seccode)):
        raise _failed()


def captcha_verify(*, endpoint: str, response: Any) -> None:
    """Check ``response`` when the captcha is on and ``endpoint`` is protected."""
    mode = settings.BARONG_CAPTCHA
    if mode == "none" or endpoint not in settings.BARONG_CAPTCHA_PROTECTED_ENDPOINTS:
        return
    if _blank(response):
        raise ApiError("identity.captcha.required", 400)
    if mode == "recaptcha":
        recaptcha_verify(response)
    elif mode == "geetest":
        geetest_verify(response)
    else:
        raise _failed()  # an unknown mode never lets a request through


def geetest_register() -> dict[str, str]:
    """A GeeTest challenge for the widget: ``{"gt", "challenge"}`` (GET users/register_geetest).

    GeeTest answers a 32-character challenge; the client gets md5(challenge + key).
    When the captcha is not GeeTest, or GeeTest cannot be reached, the answer keeps its
    shape with an empty challenge, so clients always parse the same JSON.
    """
    gt = settings.BARONG_GEETEST_ID
    failure = {"gt": gt if settings.BARONG_CAPTCHA == "geetest" else "", "challenge": ""}
    if settings.BARONG_CAPTCHA != "geetest" or not gt:
        return failure
    try:
        answer = requests.get(
            f"{settings.BARONG_GEETEST_API_URL.rstrip('/')}/register.php",
            params={"gt": gt, "json_format": "1"},
            timeout=settings.BARONG_CAPTCHA_TIMEOUT,
        )
        answer.raise_for_status()
        body = answer.text.strip()
    except requests.RequestException:
        logger.warning("GeeTest registration unavailable", exc_info=True)
        return failure
    parsed = _json_or_text(body)
    challenge = parsed.get("challenge") if isinstance(parsed, dict) else parsed
    if not isinstance(challenge, str) or len(challenge) != 32:
        return failure
    return {"gt": gt, "challenge": _md5(challenge + settings.BARONG_GEETEST_KEY)}
