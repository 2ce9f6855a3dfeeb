"""API-key inputs per operation and the APIKey entity, its secret shown only once."""

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.resource_serializers import NonBlankStr
from apikeys.models import APIKey
from apikeys.services import api_key_enforced_scope
from barong.api.fields import EntityTime
from barong.api.params import Bool, Str

TOTP_HELP = "Code from Google Authenticator"
SCOPE_HELP = (
    "comma separated scopes; read, trade and withdraw (BARONG_API_KEY_SCOPES) limit the key "
    "to what they name, a key naming none of them is unrestricted"
)
CIDRS_HELP = "comma separated networks (CIDR) or addresses the key may be used from; blank: any"
EXPIRES_HELP = "when the key stops working: ISO 8601 time or unix seconds; blank: never"


def _optional_text(help_text: str) -> Str:
    return Str(required=False, allow_blank=True, max_length=4096, help_text=help_text)


class APIKeyCreateInput(serializers.Serializer):
    algorithm = NonBlankStr(help_text="API key algorithm (HS256)")
    kid = NonBlankStr(required=False, help_text="Ignored for HS algorithms (a random kid is set)")
    scope = NonBlankStr(required=False, help_text=SCOPE_HELP)
    allowed_cidrs = _optional_text(CIDRS_HELP)
    expires_at = _optional_text(EXPIRES_HELP)
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
    allowed_cidrs = _optional_text(CIDRS_HELP)
    expires_at = _optional_text(EXPIRES_HELP)
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


LIMIT_FIELDS = ["enforced_scope", "allowed_cidrs", "expires_at", "operator_restricted"]


class APIKeySerializer(serializers.ModelSerializer):
    """Barong's APIKey without its secret, and what limits it (additions): lists and updates."""

    scope = serializers.ListField(child=serializers.CharField(), read_only=True)
    enforced_scope = serializers.SerializerMethodField(
        help_text="The configured scopes the key is limited to; null: unrestricted"
    )
    allowed_cidrs = serializers.ListField(child=serializers.CharField(), read_only=True)
    expires_at = EntityTime(allow_null=True)
    created_at = EntityTime()
    updated_at = EntityTime()

    class Meta:
        model = APIKey
        fields = ["kid", "algorithm", "scope", "state", *LIMIT_FIELDS, "created_at", "updated_at"]

    @extend_schema_field(serializers.ListField(child=serializers.CharField(), allow_null=True))
    def get_enforced_scope(self, api_key: APIKey) -> list[str] | None:
        return api_key_enforced_scope(api_key)


class APIKeyWithSecretSerializer(APIKeySerializer):
    """The create response: the only time the secret leaves the server."""

    secret = serializers.SerializerMethodField()

    class Meta(APIKeySerializer.Meta):
        fields = [
            "kid",
            "algorithm",
            "scope",
            "state",
            *LIMIT_FIELDS,
            "secret",
            "created_at",
            "updated_at",
        ]

    @extend_schema_field(SecretSerializer)
    def get_secret(self, api_key: APIKey) -> dict[str, Any]:
        return secret_envelope(self.context["secret"])


class AdminAPIKeyListInput(serializers.Serializer):
    uid = NonBlankStr(required=False, max_length=32, help_text="Only this user's keys")


class AdminAPIKeyUpdateInput(serializers.Serializer):
    kid = NonBlankStr(max_length=255, help_text="The key to restrict")
    scope = _optional_text(SCOPE_HELP + "; blank: no scope")
    allowed_cidrs = _optional_text(CIDRS_HELP)
    expires_at = _optional_text(EXPIRES_HELP)
    restricted = Bool(
        required=False,
        help_text="true: scope, networks and expiry are the operator's (the owner cannot "
        "change them); false: the owner's again",
    )
    state = NonBlankStr(required=False, help_text='"inactive" switches the key off')


class AdminAPIKeySerializer(APIKeySerializer):
    """A key as operators see it: whose it is, and its limits; never its secret."""

    uid = serializers.CharField(source="user.uid", read_only=True)
    email = serializers.CharField(source="user.email", read_only=True)

    class Meta(APIKeySerializer.Meta):
        fields = ["uid", "email", *APIKeySerializer.Meta.fields]
