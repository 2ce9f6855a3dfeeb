"""``manage.py check``: a management API config file that cannot be trusted, and the key
otp/sign countersigns with (management/keys.py)."""

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register
from django.core.exceptions import ImproperlyConfigured

from barong import jwt as barong_jwt
from management.config import management_config_error
from management.keys import SETTING, management_signing_key


@register()
def management_api_config_check(app_configs, **kwargs) -> list[Error]:
    error = management_config_error()
    if error is None:
        return []
    return [
        Error(
            f"BARONG_MANAGEMENT_API_CONFIG: {error}",
            hint="Every management API call answers 401 until the file is fixed.",
            id="management.E001",
        )
    ]


@register()
def management_signing_key_check(app_configs, **kwargs) -> list[Error | Warning]:
    """A key that does not load, or one that is the JWT key under another name."""
    if not settings.BARONG_MANAGEMENT_SIGNING_KEY:
        return []
    try:
        kid = management_signing_key().kid
    except ImproperlyConfigured as exc:
        return [
            Error(
                str(exc),
                hint="otp/sign answers 500 until the key is fixed (an RSA PEM, 2048 bits+).",
                id="management.E002",
            )
        ]
    if kid in {pair.kid for pair in barong_jwt.keyring()}:
        return [
            Warning(
                f"{SETTING} is the JWT key: what otp/sign signs verifies with /identity/jwks.",
                hint="Generate a key of its own (docs/compatibility.md, otp/sign).",
                id="management.W002",
            )
        ]
    return []


@register(Tags.security, deploy=True)
def management_signing_key_deploy_check(app_configs, **kwargs) -> list[Warning]:
    """Production without a countersigning key signs with the JWT key, as Barong 2.4 did."""
    if settings.BARONG_MANAGEMENT_SIGNING_KEY or not settings.PRODUCTION:
        return []
    return [
        Warning(
            f"{SETTING} is not set: otp/sign countersigns with the JWT key (Barong 2.4's "
            "behaviour), refusing payloads shaped like session tokens.",
            hint="Set a key of its own and give its keychain entry (manage.py "
            "management_keychain) to Peatio's keychain (docs/compatibility.md, otp/sign).",
            id="management.W001",
        )
    ]
