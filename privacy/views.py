"""``GET /resource/users/me/export``: the caller's personal data as one JSON document."""

from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers
from rest_framework.response import Response

from accounts.views.own_account import NO_STORE, UNAUTHORIZED, current_session_key
from barong.api.views import ResourceViewSet, barong_schema
from privacy.export import user_data_export


# One object, although the route is the collection's GET (not a paginated list).
@extend_schema_serializer(many=False)
class ExportSerializer(serializers.Serializer):
    format_version = serializers.IntegerField()
    exported_at = serializers.DateTimeField()
    account = serializers.DictField()
    profiles = serializers.ListField(child=serializers.DictField())
    phones = serializers.ListField(child=serializers.DictField())
    labels = serializers.ListField(child=serializers.DictField())
    documents = serializers.ListField(child=serializers.DictField(), help_text="Signed links")
    data_storages = serializers.ListField(child=serializers.DictField())
    api_keys = serializers.ListField(child=serializers.DictField(), help_text="No secrets")
    passkeys = serializers.ListField(child=serializers.DictField())
    recovery_codes_left = serializers.IntegerField()
    sessions = serializers.ListField(child=serializers.DictField())
    activities = serializers.ListField(
        child=serializers.DictField(), help_text="What the user did (their own rows)"
    )
    operator_actions = serializers.ListField(
        child=serializers.DictField(),
        help_text="What operators and services did to the account: created_at, by "
        "(operator or service), topic, action, result and the change, never who or from where",
    )


class ExportViewSet(ResourceViewSet):
    error_prefix = "resource.user"

    @barong_schema(
        summary="Everything the server holds about the caller, as one JSON document",
        output=ExportSerializer,
        errors={401: UNAUTHORIZED, 429: "resource.user.too_many_requests"},
    )
    def list(self, request):
        body = user_data_export(user=request.user, current_session=current_session_key(request))
        headers = {**NO_STORE, "Content-Disposition": 'attachment; filename="barong-export.json"'}
        return Response(body, headers=headers)
