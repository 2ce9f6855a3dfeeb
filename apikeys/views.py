"""Resource API: the user's HMAC API keys (list, create, update, delete)."""

from rest_framework import status
from rest_framework.response import Response

from apikeys import serializers as s
from apikeys import services
from apikeys.models import APIKey
from barong.api.errors import ApiError
from barong.api.views import AdminViewSet, ResourceViewSet, barong_schema

UNAUTHORIZED = "Invalid bearer token or session"
GUARD_400 = "resource.api_key.2fa_disabled"
GUARD_422 = "resource.api_key.missing_totp, resource.api_key.invalid_totp, parameter keys"
NO_STORE = {"Cache-Control": "no-store"}
LIMIT_422 = (
    "allowed_cidrs.invalid, allowed_cidrs.too_many, expires_at.invalid, "
    "expires_at.in_the_past, expires_at.too_far"
)


def limits_from(params: dict) -> dict:
    """The networks and expiry a request sets, parsed; absent ones are left out."""
    limits = {}
    if "allowed_cidrs" in params:
        limits["allowed_cidrs"] = services.api_key_cidrs_parse(params["allowed_cidrs"])
    if "expires_at" in params:
        limits["expires_at"] = services.api_key_expiry_parse(params["expires_at"])
    return limits


class APIKeyViewSet(ResourceViewSet):
    """``/resource/api_keys`` (GET, POST) and ``/resource/api_keys/{kid}`` (PATCH, DELETE)."""

    error_prefix = "resource.apikey"
    lookup_field = "kid"
    lookup_value_regex = "[^/]+"

    @barong_schema(
        summary="List all api keys for current account.",
        output=s.APIKeySerializer,
        many=True,
        errors={401: UNAUTHORIZED, 422: "non_integer_page, invalid_limit, ..."},
    )
    def list(self, request):
        keys = APIKey.objects.filter(user=request.user).order_by("id")
        return self.paginated(keys, s.APIKeySerializer)

    @barong_schema(
        summary="Create an api key (its secret is shown in this answer only)",
        input=s.APIKeyCreateInput,
        output=s.APIKeyWithSecretSerializer,
        status=201,
        errors={
            400: GUARD_400,
            401: UNAUTHORIZED,
            422: f"{GUARD_422}, algorithm.inclusion, scope.too_long, {LIMIT_422}",
            429: "resource.api_key.too_many_requests",
        },
    )
    def create(self, request):
        params = self.parse(s.APIKeyCreateInput)
        limits = limits_from(params)
        services.api_key_totp_check(user=request.user, totp_code=params["totp_code"])
        api_key, secret = services.api_key_create(
            user=request.user,
            algorithm=params["algorithm"],
            kid=params.get("kid"),
            scope=services.api_key_scope_parse(params.get("scope", "")),
            request=request,
            **limits,
        )
        body = s.APIKeyWithSecretSerializer(api_key, context={"secret": secret}).data
        return Response(body, status=status.HTTP_201_CREATED, headers=NO_STORE)

    @barong_schema(
        summary="Updates an api key",
        input=s.APIKeyUpdateInput,
        output=s.APIKeySerializer,
        errors={
            400: GUARD_400,
            401: UNAUTHORIZED,
            403: "resource.api_key.restricted_by_operator (scope, networks, expiry)",
            404: "record.not_found",
            422: f"{GUARD_422}, state.inclusion, scope.too_long, {LIMIT_422}",
            429: "resource.api_key.too_many_requests",
        },
    )
    def partial_update(self, request, kid: str):
        params = self.parse(s.APIKeyUpdateInput)
        limits = limits_from(params)
        services.api_key_totp_check(user=request.user, totp_code=params["totp_code"])
        api_key = services.api_key_get(user=request.user, kid=kid)
        scope = params.get("scope")
        api_key = services.api_key_update(
            api_key=api_key,
            scope=None if scope is None else services.api_key_scope_parse(scope),
            state=services.api_key_state_from_client(params.get("state")),
            request=request,
            **limits,
        )
        return Response(s.APIKeySerializer(api_key).data)

    @barong_schema(
        summary="Delete an api key",
        input=s.APIKeyDeleteInput,
        query=True,
        status=204,
        errors={
            400: GUARD_400,
            401: UNAUTHORIZED,
            404: "record.not_found",
            422: GUARD_422,
            429: "resource.api_key.too_many_requests",
        },
    )
    def destroy(self, request, kid: str):
        params = self.parse(s.APIKeyDeleteInput)
        services.api_key_totp_check(user=request.user, totp_code=params["totp_code"])
        services.api_key_delete(api_key=services.api_key_get(user=request.user, kid=kid))
        return Response(status=status.HTTP_204_NO_CONTENT)


class AdminAPIKeyViewSet(AdminViewSet):
    """``/admin/api_keys``: GET list (optionally one user's), PUT to restrict a key by kid."""

    error_prefix = "admin.api_key"

    @barong_schema(
        summary="API keys with their owner and limits (never a secret)",
        input=s.AdminAPIKeyListInput,
        query=True,
        output=s.AdminAPIKeySerializer,
        many=True,
        errors={401: UNAUTHORIZED, 403: "authz.invalid_permission", 422: "admin.api_key.*"},
    )
    def list(self, request):
        params = self.parse(s.AdminAPIKeyListInput)
        keys = APIKey.objects.select_related("user").order_by("id")
        if "uid" in params:
            keys = keys.filter(user__uid=params["uid"])
        return self.paginated(keys, s.AdminAPIKeySerializer)

    @barong_schema(
        summary="Restrict a key: scope, networks, expiry, owner lock-out, switch off",
        input=s.AdminAPIKeyUpdateInput,
        output=s.AdminAPIKeySerializer,
        errors={
            401: UNAUTHORIZED,
            403: "authz.invalid_permission",
            404: "admin.api_key.doesnt_exist",
            422: f"admin.api_key.missing_kid, scope.too_long, state.inclusion, {LIMIT_422}",
        },
    )
    def update_by_id(self, request):
        params = self.parse(s.AdminAPIKeyUpdateInput)
        limits = limits_from(params)
        kid = params["kid"]
        api_key = APIKey.objects.filter(kid=kid).first() if "\x00" not in kid else None
        if api_key is None:
            raise ApiError("admin.api_key.doesnt_exist", 404)
        scope = params.get("scope")
        api_key = services.api_key_restrict(
            admin=request.user,
            api_key=api_key,
            scope=None if scope is None else services.api_key_scope_parse(scope),
            restricted=params.get("restricted"),
            state=services.api_key_state_from_client(params.get("state")),
            request=request,
            **limits,
        )
        return Response(s.AdminAPIKeySerializer(api_key).data)
