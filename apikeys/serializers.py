"""API-key inputs per operation and the APIKey entity, its secret shown only once."""

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.resource_serializers import NonBlankStr
from apikeys.models import APIKey
from barong.api.fields import EntityTime

TOTP_HELP = "Code from Google Authenticator"
SCOPE_HELP = "comma separated scopes"


class APIKeyCreateInput(serializers.Serializer):
    algorithm = NonBlankStr(help_text="API key algorithm (HS256)")
    kid = NonBlankStr(required=False, help_text="Ignored for HS algorithms (a random kid is set)")
    scope = NonBlankStr(required=False, help_text=SCOPE_HELP)
    totp_code = NonBlankStr(
        error_messages={"required": "resource.api_key.missing_totp"}, help_text=TOTP_HELP
    )


class APIKeyUpdateInput(serializers.Serializer):
    scope = NonBlankStr(required=False, help_text=SCOPE_HELP)
    state = NonBlankStr(
        required=False,
        help_text='State of API Key: "active" (usable for auth), or "inactive" or "disabled"'
        ' (the same: switched off; answers say "inactive")',
    )
    totp_code = NonBlankStr(help_text=TOTP_HELP)


class APIKeyDeleteInput(serializers.Serializer):
    totp_code = NonBlankStr(help_text=TOTP_HELP)


class SecretSerializer(serializers.Serializer):
    """Barong returned Vault's read envelope; clients read ``data.value``."""

    auth = serializers.JSONField(allow_null=True)
    data = serializers.DictField(child=serializers.CharField())
    lease_duration = serializers.IntegerField()
    lease_id = serializers.CharField(allow_blank=True)
    metadata = serializers.JSONField(allow_null=True)
    renewable = serializers.BooleanField()
    warnings = serializers.JSONField(allow_null=True)
    wrap_info = serializers.JSONField(allow_null=True)


def secret_envelope(secret: str) -> dict[str, Any]:
    return {
        "auth": None,
        "data": {"value": secret},
        "lease_duration": 0,
        "lease_id": "",
        "metadata": None,
        "renewable": False,
        "warnings": None,
        "wrap_info": None,
    }


class APIKeySerializer(serializers.ModelSerializer):
    """Barong's APIKey without its secret: lists and updates."""

    scope = serializers.ListField(child=serializers.CharField(), read_only=True)
    created_at = EntityTime()
    updated_at = EntityTime()

    class Meta:
        model = APIKey
        fields = ["kid", "algorithm", "scope", "state", "created_at", "updated_at"]


class APIKeyWithSecretSerializer(APIKeySerializer):
    """The create response: the only time the secret leaves the server."""

    secret = serializers.SerializerMethodField()

    class Meta(APIKeySerializer.Meta):
        fields = ["kid", "algorithm", "scope", "state", "secret", "created_at", "updated_at"]

    @extend_schema_field(SecretSerializer)
    def get_secret(self, api_key: APIKey) -> dict[str, Any]:
        return secret_envelope(self.context["secret"])
