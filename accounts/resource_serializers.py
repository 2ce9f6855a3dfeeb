"""Input serializers of the own-account resource operations (users/me, password, otp) and
the raw activity row they answer."""

from typing import Any

from rest_framework import serializers

from activities.models import Activity
from barong.api.fields import RawTime
from barong.api.params import Str


class NonBlankStr(Str):
    """Barong's ``allow_blank: false``: empty or whitespace-only is blank (``empty_<param>``)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs["allow_blank"] = False
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> str:
        value = super().to_internal_value(data)
        if not value.strip():
            self.fail("blank")
        return value


class UserDeleteInput(serializers.Serializer):
    password = NonBlankStr(help_text="Account password")
    otp_code = NonBlankStr(required=False, help_text="Code from Google Authenticator")


class UserDataInput(serializers.Serializer):
    """``PUT /resource/users/me``: only ``data`` is read; front ends send the whole user."""

    data = NonBlankStr(help_text="Any additional key: value pairs in json string format")


class PasswordChangeInput(serializers.Serializer):
    old_password = NonBlankStr(help_text="Previous account password")
    new_password = NonBlankStr(help_text="User password")
    confirm_password = NonBlankStr(help_text="User password")
    lang = Str(required=False, allow_blank=True, max_length=16, help_text="Language (iso-2)")


class OTPCodeInput(serializers.Serializer):
    code = NonBlankStr(help_text="Code from Google Authenticator")


class QRCodeDataSerializer(serializers.Serializer):
    barcode = serializers.CharField(help_text="Base64 PNG of the QR code")
    url = serializers.CharField(help_text="otpauth://totp/… URL")


class QRCodeSerializer(serializers.Serializer):
    data = QRCodeDataSerializer()


class ActivityRowSerializer(serializers.ModelSerializer):
    """A raw activity row, as Barong renders it: every column, ``created_at`` with milliseconds."""

    user_id = serializers.IntegerField(read_only=True)
    created_at = RawTime()

    class Meta:
        model = Activity
        fields = [
            "id",
            "user_id",
            "target_uid",
            "category",
            "user_ip",
            "user_agent",
            "topic",
            "action",
            "result",
            "data",
            "created_at",
        ]
