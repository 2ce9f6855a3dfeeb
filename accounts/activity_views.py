"""Admin API, activity log and metrics.

The rows are activities' (the bottom layer); these views present them with their users,
so they live in accounts, one layer up.
"""

from typing import Any

from drf_spectacular.plumbing import is_list_serializer
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.activity_serializers import ActivityWithUserSerializer, AdminActivitySerializer
from accounts.models import Label
from accounts.services import email_normalize
from activities import selectors
from activities.models import Activity
from barong.api.params import BareInvalidInt, Str, validate_params
from barong.api.schema import BarongAutoSchema
from barong.api.timebounds import UNIX_MAX
from barong.api.views import AdminViewSet, barong_schema

ACCESS_ERRORS = {401: "Invalid bearer token", 403: "The role may not use this endpoint"}
FROM_HELP = "Unix seconds. If set, only records FROM the time will be retrieved."
TO_HELP = "Unix seconds. If set, only records up to the time (inclusive) will be retrieved."


def unix_seconds(help_text: str) -> BareInvalidInt:
    return BareInvalidInt(required=False, min_value=0, max_value=UNIX_MAX, help_text=help_text)


class ActivityListInput(serializers.Serializer):
    """The list filters; ``from``/``to`` are added in ``get_fields`` (``from`` is a keyword)."""

    topic = Str(required=False)
    action = Str(required=False)
    uid = Str(required=False, help_text="uid of the user who acted")
    email = Str(required=False, help_text="e-mail of the user who acted")
    target_uid = Str(required=False, help_text="uid of the user acted on")

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        fields["from"] = unix_seconds(FROM_HELP)
        fields["to"] = unix_seconds(TO_HELP)
        return fields


class AdminActivityListInput(ActivityListInput):
    range = serializers.ChoiceField(
        choices=["created"],
        required=False,
        default="created",
        error_messages={"invalid_choice": "admin.activity.invalid_range"},
        help_text="Only `created` is supported",
    )


class MetricsInput(serializers.Serializer):
    created_from = unix_seconds("Unix seconds; count only records created at or after it")
    created_to = unix_seconds("Unix seconds; count only records created at or before it")


class MetricsSerializer(serializers.Serializer):
    signups = serializers.DictField(child=serializers.IntegerField())
    sucessful_logins = serializers.DictField(child=serializers.IntegerField())
    failed_logins = serializers.DictField(child=serializers.IntegerField())
    pending_applications = serializers.IntegerField()


class ObjectSchema(BarongAutoSchema):
    """``/admin/metrics`` answers one object although its handler is the collection GET."""

    def _is_list_view(self, serializer=None) -> bool:
        return serializer is not None and is_list_serializer(serializer)


class AdminActivityViewSet(AdminViewSet):
    """``/admin/activities`` (user category) and ``/admin/activities/admin`` (audit log)."""

    error_prefix = "admin.activity"

    def _search(self, input_class: type, category: str, serializer_class: type) -> Response:
        # A blank filter means "no filter", as a cleared search box does.
        params = {key: value for key, value in self.params.items() if value not in ("", None)}
        data = validate_params(input_class, params, self.error_prefix)
        data.pop("range", None)
        rows = selectors.activities_search(
            category=category,
            topic=data.get("topic"),
            action=data.get("action"),
            uid=data.get("uid"),
            email=email_normalize(data["email"]) if data.get("email") else None,
            target_uid=data.get("target_uid"),
            time_from=data.get("from"),
            time_to=data.get("to"),
        )
        return self.paginated(rows, serializer_class)

    @barong_schema(
        summary="Users' own activity (sign-ups, logins, 2FA, ...), newest first (paginated)",
        input=ActivityListInput,
        output=ActivityWithUserSerializer,
        many=True,
        query=True,
        errors={**ACCESS_ERRORS, 422: "Bad from/to (invalid) or pagination"},
    )
    def list(self, request):
        return self._search(ActivityListInput, Activity.Category.USER, ActivityWithUserSerializer)

    @barong_schema(
        summary="Operators' audit log, newest first (paginated)",
        input=AdminActivityListInput,
        output=AdminActivitySerializer,
        many=True,
        query=True,
        errors={**ACCESS_ERRORS, 422: "admin.activity.invalid_range, bad from/to or pagination"},
    )
    @action(detail=False, methods=["get"], url_path="admin")
    def admin_log(self, request):
        return self._search(
            AdminActivityListInput, Activity.Category.ADMIN, AdminActivitySerializer
        )


class AdminMetricViewSet(AdminViewSet):
    """``/admin/metrics``: daily sign-ups and logins, and the KYC backlog."""

    error_prefix = "admin.metric"
    pagination_class = None
    schema = ObjectSchema()

    @barong_schema(
        summary="Daily sign-ups and logins (UTC days) and pending document reviews",
        input=MetricsInput,
        output=MetricsSerializer,
        query=True,
        errors={**ACCESS_ERRORS, 422: "Bad created_from/created_to (invalid)"},
    )
    def list(self, request):
        params = {key: value for key, value in self.params.items() if value not in ("", None)}
        data: dict[str, Any] = validate_params(MetricsInput, params, self.error_prefix)
        body: dict[str, Any] = selectors.activity_metrics(
            time_from=data.get("created_from"), time_to=data.get("created_to")
        )
        # The backlog is "now", whatever the period asked for.
        body["pending_applications"] = Label.objects.filter(
            scope=Label.Scope.PRIVATE, key="document", value="pending"
        ).count()
        return Response(body)
