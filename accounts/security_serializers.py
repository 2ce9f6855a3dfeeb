"""Inputs and outputs of the account-security additions: sessions, recovery codes, passkeys."""

from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from accounts.resource_serializers import NonBlankStr
from accounts.serializers import captcha_field
from barong.api.params import Str


class SessionSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="Opaque id of the session (never its cookie value)")
    user_ip = serializers.CharField()
    user_agent = serializers.CharField()
    created_at = serializers.IntegerField(help_text="Unix seconds")
    last_seen_at = serializers.IntegerField(help_text="Unix seconds")
    current = serializers.BooleanField(help_text="The session this request came with")


class SessionsEndedSerializer(serializers.Serializer):
    ended = serializers.IntegerField(help_text="How many sessions were ended")


class StepUpTotpInput(serializers.Serializer):
    otp_code = NonBlankStr(max_length=64, help_text="Current code from Google Authenticator")


class StepUpPasswordInput(serializers.Serializer):
    password = NonBlankStr(max_length=1024, help_text="The account's password")


class StepUpInput(serializers.Serializer):
    """The documented body: a TOTP code, or (a user without a second factor) the password."""

    otp_code = NonBlankStr(
        required=False, max_length=64, help_text="Current code from Google Authenticator"
    )
    password = NonBlankStr(
        required=False,
        max_length=1024,
        help_text="The password, for a user with no second factor (amr `pwd`); used when"
        " `otp_code` is absent",
    )


class StepUpVerifyInput(serializers.Serializer):
    credential = serializers.JSONField(help_text="PublicKeyCredential from navigator.get()")


class StepUpSerializer(serializers.Serializer):
    amr = serializers.ListField(
        child=serializers.CharField(),
        help_text="How the session's user authenticated (RFC 8176 names), as the JWT says",
    )
    auth_time = serializers.IntegerField(help_text="Unix seconds of the latest authentication")


class PasskeysRemovedSerializer(serializers.Serializer):
    removed = serializers.IntegerField(help_text="How many passkeys were removed")


class RecoveryCodesInput(serializers.Serializer):
    code = NonBlankStr(max_length=64, help_text="Current code from Google Authenticator")


class RecoveryCodesSerializer(serializers.Serializer):
    codes = serializers.ListField(child=serializers.CharField(), help_text="Shown once")


# One object, although the route is the collection's GET (not a paginated list).
@extend_schema_serializer(many=False)
class RecoveryCodesCountSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text="Unused recovery codes left")


class WebAuthnRegisterVerifyInput(serializers.Serializer):
    credential = serializers.JSONField(help_text="PublicKeyCredential from navigator.create()")
    name = Str(required=False, allow_blank=True, max_length=64, help_text="Label of the passkey")


class WebAuthnCredentialSerializer(serializers.Serializer):
    id = serializers.CharField(source="public_id", help_text="Credential id, base64url")
    name = serializers.CharField()
    sign_count = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    last_used_at = serializers.DateTimeField(allow_null=True)


class WebAuthnLoginOptionsInput(serializers.Serializer):
    email = NonBlankStr(max_length=255)
    password = NonBlankStr(max_length=1024)
    captcha_response = captcha_field("identity.session")


class WebAuthnLoginVerifyInput(serializers.Serializer):
    flow_id = NonBlankStr(
        max_length=128, help_text="The flow_id the options call answered (single use)"
    )
    credential = serializers.JSONField(help_text="PublicKeyCredential from navigator.get()")


class OptionsSerializer(serializers.Serializer):
    publicKey = serializers.DictField(help_text="PublicKeyCredential*Options, JSON-encoded")


class WebAuthnLoginOptionsSerializer(OptionsSerializer):
    flow_id = serializers.CharField(
        help_text="Names this login flow: send it back to verify; valid for one verify within"
        " BARONG_WEBAUTHN_CHALLENGE_TTL seconds"
    )
