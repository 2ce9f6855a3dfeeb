"""Phone numbers and the providers that deliver and check verification codes.

``BARONG_PHONE_VERIFICATION`` picks one provider:
- ``mock``: nothing is sent; the code is always ``12345`` and any other code is wrong;
- ``twilio_sms``: our own 5-digit CSPRNG code, sent by SMS through Twilio's Messages API;
- ``twilio_verify``: Twilio Verify sends and checks its own code (SMS or voice call).
"""

import logging
import re
import secrets
from dataclasses import dataclass
from typing import Protocol

import phonenumbers
import requests
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from barong.crypto import constant_time_equals

logger = logging.getLogger(__name__)

MOCK_CODE = "12345"
CODE_DIGITS = 5
TWILIO_TIMEOUT = 10  # seconds; the request waits for the provider
MAX_DIGITS = 17  # E.164 allows 15; a national trunk prefix may add a couple before parsing

# Twilio error code -> Barong key (adding a phone).
TWILIO_ERRORS = {
    21612: "resource.phone.num_not_reachable",
    21614: "resource.phone.num_not_valid",
    21618: "resource.phone.sms_content_invalid",
    21610: "resource.phone.unsubscribed_recipient",
}
TWILIO_UNEXPECTED = "resource.phone.twilio_unexpected"


class PhoneProviderError(Exception):
    """The provider refused or failed; ``key`` is the Barong key the client sees (422)."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


@dataclass(frozen=True)
class PhoneNumber:
    """A valid number: E.164 digits without ``+`` and the ISO alpha-2 region it belongs to."""

    number: str
    country: str


def phone_number_parse(raw: object) -> PhoneNumber | None:
    """Strip every non-digit, parse with a leading ``+``; None unless it is a valid number."""
    digits = re.sub(r"\D", "", str(raw), flags=re.ASCII)
    if not digits or len(digits) > MAX_DIGITS:
        return None
    try:
        parsed = phonenumbers.parse(f"+{digits}", None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    region = phonenumbers.region_code_for_number(parsed)
    e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    if not region or region == "001":  # non-geographic numbers have no country
        return None
    return PhoneNumber(number=e164.lstrip("+"), country=region)


def sms_text(code: str) -> str:
    return settings.BARONG_SMS_CONTENT_TEMPLATE.replace("{{code}}", code)


class PhoneProvider(Protocol):
    """Issues codes, delivers them and checks what the user typed."""

    def code_generate(self) -> str: ...

    def code_send(self, *, number: str, code: str, channel: str) -> str:
        """Deliver the code; answers the channel really used."""

    def code_check(self, *, number: str, code: str, stored: str) -> bool: ...


def random_code() -> str:
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


class MockProvider:
    """No SMS: the code is always ``12345`` (the development and test provider)."""

    def code_generate(self) -> str:
        return MOCK_CODE

    def code_send(self, *, number: str, code: str, channel: str) -> str:
        logger.info("mock %s to +%s: %s", channel, number, sms_text(code))
        return channel

    def code_check(self, *, number: str, code: str, stored: str) -> bool:
        return constant_time_equals(code, MOCK_CODE)


def _twilio_credentials() -> tuple[str, str]:
    sid, token = settings.BARONG_TWILIO_ACCOUNT_SID, settings.BARONG_TWILIO_AUTH_TOKEN
    if not sid or not token:
        raise ImproperlyConfigured(
            "BARONG_TWILIO_ACCOUNT_SID and BARONG_TWILIO_AUTH_TOKEN are needed for Twilio"
        )
    return sid, token


def _twilio_post(url: str, data: dict[str, str]) -> dict:
    """POST a form to Twilio; its error codes become Barong keys."""
    try:
        response = requests.post(url, data=data, auth=_twilio_credentials(), timeout=TWILIO_TIMEOUT)
    except requests.RequestException as exc:
        logger.warning("twilio unreachable: %s", exc)
        raise PhoneProviderError(TWILIO_UNEXPECTED) from exc
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    if response.status_code >= 400:
        code = body.get("code")
        logger.warning("twilio refused (%s): %s", response.status_code, body.get("message"))
        raise PhoneProviderError(TWILIO_ERRORS.get(code, TWILIO_UNEXPECTED))
    return body


class TwilioSMSProvider:
    """Our own code by SMS through Twilio's Messages API (voice calls are not offered)."""

    def code_generate(self) -> str:
        return random_code()

    def code_send(self, *, number: str, code: str, channel: str) -> str:
        sid, _ = _twilio_credentials()
        url = f"{settings.BARONG_TWILIO_API_URL}/2010-04-01/Accounts/{sid}/Messages.json"
        _twilio_post(
            url,
            {
                "To": f"+{number}",
                "From": settings.BARONG_TWILIO_PHONE_NUMBER,
                "Body": sms_text(code),
            },
        )
        return "sms"

    def code_check(self, *, number: str, code: str, stored: str) -> bool:
        return constant_time_equals(code, stored)


class TwilioVerifyProvider:
    """Twilio Verify generates, sends and checks the code; approved means verified."""

    def _service_url(self, path: str) -> str:
        service = settings.BARONG_TWILIO_SERVICE_SID
        if not service:
            raise ImproperlyConfigured("BARONG_TWILIO_SERVICE_SID is needed for twilio_verify")
        return f"{settings.BARONG_TWILIO_VERIFY_URL}/v2/Services/{service}/{path}"

    def code_generate(self) -> str:
        # Twilio keeps the real code; ours only marks that a code is outstanding.
        return random_code()

    def code_send(self, *, number: str, code: str, channel: str) -> str:
        _twilio_post(self._service_url("Verifications"), {"To": f"+{number}", "Channel": channel})
        return channel

    def code_check(self, *, number: str, code: str, stored: str) -> bool:
        try:
            body = _twilio_post(
                self._service_url("VerificationCheck"), {"To": f"+{number}", "Code": code}
            )
        except PhoneProviderError:
            return False  # Twilio answers 404 once its verification expired or was used up
        return body.get("status") == "approved"


PROVIDERS: dict[str, type] = {
    "mock": MockProvider,
    "twilio_sms": TwilioSMSProvider,
    "twilio_verify": TwilioVerifyProvider,
}


def phone_provider() -> PhoneProvider:
    """The provider named by ``BARONG_PHONE_VERIFICATION``."""
    name = settings.BARONG_PHONE_VERIFICATION
    if name not in PROVIDERS:
        raise ImproperlyConfigured(
            f"BARONG_PHONE_VERIFICATION must be one of {', '.join(PROVIDERS)}, not {name!r}"
        )
    return PROVIDERS[name]()
