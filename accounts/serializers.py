"""Input serializers per identity operation and the User output entity."""

from rest_framework import serializers

from accounts.models import User
from barong.api.params import Str


class UserSerializer(serializers.ModelSerializer):
    """Barong's User entity (§1.8)."""

    referral_uid = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = ["email", "uid", "role", "level", "otp", "state", "referral_uid", "data"]

    def get_referral_uid(self, user: User) -> str | None:
        return user.referral_uid


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
