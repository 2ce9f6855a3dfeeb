"""Resource API: the user's HMAC API keys (list, create, update, delete)."""

from rest_framework import status
from rest_framework.response import Response

from apikeys import serializers as s
from apikeys import services
from apikeys.models import APIKey
from barong.api.views import ResourceViewSet, barong_schema

UNAUTHORIZED = "Invalid bearer token or session"
GUARD_400 = "resource.api_key.2fa_disabled"
GUARD_422 = "resource.api_key.missing_totp, resource.api_key.invalid_totp, parameter keys"
NO_STORE = {"Cache-Control": "no-store"}


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
            422: f"{GUARD_422}, algorithm.inclusion, scope.too_long",
            429: "resource.api_key.too_many_requests",
        },
    )
    def create(self, request):
        params = self.parse(s.APIKeyCreateInput)
        services.api_key_totp_check(user=request.user, totp_code=params["totp_code"])
        api_key, secret = services.api_key_create(
            user=request.user,
            algorithm=params["algorithm"],
            kid=params.get("kid"),
            scope=services.api_key_scope_parse(params.get("scope", "")),
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
            404: "record.not_found",
            422: f"{GUARD_422}, state.inclusion, scope.too_long",
            429: "resource.api_key.too_many_requests",
        },
    )
    def partial_update(self, request, kid: str):
        params = self.parse(s.APIKeyUpdateInput)
        services.api_key_totp_check(user=request.user, totp_code=params["totp_code"])
        api_key = services.api_key_get(user=request.user, kid=kid)
        scope = params.get("scope")
        api_key = services.api_key_update(
            api_key=api_key,
            scope=None if scope is None else services.api_key_scope_parse(scope),
            state=services.api_key_state_from_client(params.get("state")),
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
