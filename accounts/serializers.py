"""Input serializers per identity operation and the User output entity."""

import json
from collections.abc import Callable
from typing import Any, ClassVar

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import Label, Level, User
from barong.api.fields import EntityTime, SometimesField
from barong.api.params import Bool, Str

CAPTCHA_MAX_SIZE = 8192


# The user entity's first keys, in every shape of it (the plain user, with full info, with
# profiles, with KYC).
USER_FIELDS = ("email", "uid", "role", "level", "otp", "state")


class UserSerializer(serializers.ModelSerializer):
    """Barong's User entity."""

    referral_uid = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = [*USER_FIELDS, "referral_uid", "data"]

    def get_referral_uid(self, user: User) -> str | None:
        return user.referral_uid


class LabelSerializer(serializers.ModelSerializer):
    created_at = EntityTime()
    updated_at = EntityTime()

    class Meta:
        model = Label
        fields = ["key", "value", "scope", "created_at", "updated_at"]


class AdminLabelViewSerializer(serializers.ModelSerializer):
    created_at = EntityTime()
    updated_at = EntityTime()

    class Meta:
        model = Label
        fields = ["key", "value", "scope", "description", "created_at", "updated_at"]


class LevelSerializer(serializers.ModelSerializer):
    """Barong's Level entity: ``id`` is the level number."""

    class Meta:
        model = Level
        fields = ["id", "key", "value"]


class UserWithFullInfoSerializer(UserSerializer):
    """What login, sign-up and ``users/me`` answer; ``csrf_token`` only when a session opened.

    The collections that apps above accounts own (kyc's phones, profiles and data storage)
    are added by those apps from their ``AppConfig.ready`` with ``collection_add``, so
    accounts imports none of them.
    """

    collections: ClassVar[dict[str, Callable[[], serializers.Field]]] = {}

    csrf_token = SometimesField()
    labels = LabelSerializer(many=True, read_only=True)
    created_at = EntityTime()
    updated_at = EntityTime()

    class Meta(UserSerializer.Meta):
        fields = [
            *USER_FIELDS,
            *("referral_uid", "csrf_token", "data", "created_at", "updated_at", "labels"),
        ]

    @classmethod
    def collection_add(cls, name: str, field: Callable[[], serializers.Field]) -> None:
        """Answer ``name`` too, rendered by a fresh ``field()`` (after the labels)."""
        cls.collections[name] = field

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        for name, field in self.collections.items():
            fields[name] = field()
        return fields

    def to_representation(self, user: User):
        body = super().to_representation(user)
        if not self.context.get("csrf_token"):
            body.pop("csrf_token", None)
        return body


@extend_schema_field(
    {
        "oneOf": [
            {"type": "string", "description": "reCAPTCHA response token"},
            {
                "type": "object",
                "description": "GeeTest result",
                "properties": {
                    "geetest_challenge": {"type": "string"},
                    "geetest_validate": {"type": "string"},
                    "geetest_seccode": {"type": "string"},
                },
            },
        ]
    }
)
class CaptchaResponse(serializers.Field):
    """Barong's ``[String, Hash]`` param: a reCAPTCHA token or GeeTest's object, nothing else."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_null", True)
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> str | dict:
        if isinstance(data, str) and len(data) <= CAPTCHA_MAX_SIZE:
            return data
        if isinstance(data, dict) and len(json.dumps(data, default=str)) <= CAPTCHA_MAX_SIZE:
            return data
        self.fail("invalid")
        return ""

    def to_representation(self, value: Any) -> Any:
        return value


def captcha_field(prefix: str) -> CaptchaResponse:
    """The ``captcha_response`` parameter, its format error keyed under ``prefix``."""
    return CaptchaResponse(error_messages={"invalid": f"{prefix}.invalid_captcha_format"})


class SessionCreateInput(serializers.Serializer):
    """Log in: ``email`` and ``password`` may be empty; an empty pair simply fails to log in."""

    email = Str(allow_blank=True)
    password = Str(allow_blank=True)
    captcha_response = captcha_field("identity.session")
    otp_code = Str(required=False, allow_blank=True, allow_null=True, max_length=64)
    recovery_code = Str(
        required=False,
        allow_blank=True,
        allow_null=True,
        max_length=64,
        help_text="A 2FA recovery code, in place of otp_code (single use)",
    )


class UserCreateInput(serializers.Serializer):
    """Sign-up; ``data`` is JSON text, ``refid`` a referrer's uid."""

    email = Str(allow_blank=False)
    password = Str(allow_blank=False)
    refid = Str(required=False, allow_blank=True, allow_null=True, max_length=255)
    lang = Str(required=False, allow_blank=True, allow_null=True, max_length=255)
    captcha_response = captcha_field("identity.user")
    data = Str(required=False, allow_blank=True, allow_null=True)


class UserEmailInput(serializers.Serializer):
    """Resend confirmation, request a reset: an e-mail to send a confirmation or reset link to."""

    email = Str(allow_blank=False)
    lang = Str(required=False, allow_blank=True, allow_null=True, max_length=255)
    captcha_response = captcha_field("identity.user")


class UserEmailConfirmInput(serializers.Serializer):
    """The token from the confirmation e-mail; ``lang``, when sent, must not be blank."""

    token = Str(allow_blank=False)
    lang = Str(required=False, allow_blank=False, max_length=255)


class UserPasswordResetInput(serializers.Serializer):
    """The token from the reset e-mail and the new password, twice."""

    reset_password_token = Str(
        allow_blank=False, error_messages={"required": "identity.user.missing_pass_token"}
    )
    password = Str(allow_blank=False)
    confirm_password = Str(allow_blank=False)
    lang = Str(required=False, allow_blank=True, allow_null=True, max_length=255)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["password"] != attrs["confirm_password"]:
            raise serializers.ValidationError("identity.user.passwords_doesnt_match")
        return attrs


class GeetestRegisterSerializer(serializers.Serializer):
    gt = serializers.CharField()
    challenge = serializers.CharField()


class EmptySerializer(serializers.Serializer):
    """``{}``: where Barong answered a bare status number."""


class PasswordValidateInput(serializers.Serializer):
    password = Str(
        allow_blank=True, error_messages={"required": "identity.general.missing_password"}
    )


class EntropySerializer(serializers.Serializer):
    entropy = serializers.FloatField()


class PingSerializer(serializers.Serializer):
    ping = serializers.CharField()


class TimeSerializer(serializers.Serializer):
    time = serializers.IntegerField()


class VersionSerializer(serializers.Serializer):
    git_tag = serializers.CharField()
    git_sha = serializers.CharField()
    build_date = serializers.CharField()
    version = serializers.CharField()


class ConfigsSerializer(serializers.Serializer):
    session_expire_time = serializers.IntegerField()
    captcha_type = serializers.CharField()
    captcha_id = serializers.CharField(required=False)
    phone_verification_type = serializers.CharField()
    password_min_entropy = serializers.IntegerField()
    password_regexp = serializers.CharField()


class JWKSerializer(serializers.Serializer):
    kty = serializers.CharField()
    kid = serializers.CharField()
    alg = serializers.CharField()
    use = serializers.CharField()
    n = serializers.CharField()
    e = serializers.CharField()


class JWKSetSerializer(serializers.Serializer):
    keys = JWKSerializer(many=True)


# ---------------------------------------------------------------- labels (resource and admin)

LABEL_KEY_HELP = "label key. [a-z0-9_-]+ should be used. Min - 3, max - 255 characters."
LABEL_VALUE_HELP = "label value. [a-z0-9_-]+ should be used. Min - 3, max - 255 characters."
DESCRIPTION_HELP = "label description, at most 255 characters"


class UserLabelCreateInput(serializers.Serializer):
    key = Str(allow_blank=False)
    value = Str(allow_blank=False)


class UserLabelUpdateInput(serializers.Serializer):
    value = Str(allow_blank=False)


class LabelUsersInput(serializers.Serializer):
    key = Str(allow_blank=True, help_text="Label key")
    value = Str(allow_blank=True, help_text="Label value")


class LabelCreateInput(serializers.Serializer):
    uid = Str(allow_blank=False, help_text="user uniq id")
    key = Str(allow_blank=False, help_text=LABEL_KEY_HELP)
    value = Str(allow_blank=False, help_text=LABEL_VALUE_HELP)
    description = Str(required=False, allow_blank=False, help_text=DESCRIPTION_HELP)
    scope = Str(
        required=False,
        allow_blank=False,
        default=Label.Scope.PUBLIC,
        help_text="Label scope: 'public' or 'private'. Default is public",
    )


class LabelUpdateInput(serializers.Serializer):
    uid = Str(allow_blank=False, help_text="user uniq id")
    key = Str(allow_blank=False, help_text="Label key.")
    scope = Str(allow_blank=False, help_text="Label scope: 'public' or 'private'")
    value = Str(allow_blank=False, help_text="Label value.")
    description = Str(required=False, allow_blank=False, help_text=DESCRIPTION_HELP)


class LabelUpsertInput(LabelUpdateInput):
    replace = Bool(
        required=False,
        default=True,
        error_messages={"invalid": "admin.user.non_boolean_replace"},
        help_text="When true (default) the label is created if it does not exist",
    )


class LabelDeleteInput(serializers.Serializer):
    uid = Str(allow_blank=False, help_text="user uniq id")
    key = Str(allow_blank=False, help_text=LABEL_KEY_HELP)
    scope = Str(allow_blank=False, help_text="Label scope: 'public' or 'private'")
