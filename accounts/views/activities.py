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
from accounts.filters import ActivityFilter, AdminActivityFilter, unix_seconds
from accounts.models import Label
from activities import rollup
from activities.models import Activity
from barong.api.filters import query_schema
from barong.api.params import validate_params
from barong.api.schema import BarongAutoSchema
from barong.api.views import ADMIN_ACCESS_ERRORS, AdminViewSet, barong_schema

ACTIVITY_QUERY = query_schema(ActivityFilter)
ADMIN_ACTIVITY_QUERY = query_schema(AdminActivityFilter)


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

    def _search(self, filter_class: type, category: str, serializer_class: type) -> Response:
        rows = Activity.objects.filter(category=category)
        rows = rows.select_related("user", "user__referral").order_by("-created_at", "-id")
        filters = filter_class(data=self.params, queryset=rows)
        return self.paginated(filters.filtered(self.error_prefix), serializer_class)

    @barong_schema(
        summary="Users' own activity (sign-ups, logins, 2FA, ...), newest first (paginated)",
        input=ACTIVITY_QUERY,
        output=ActivityWithUserSerializer,
        many=True,
        query=True,
        errors={**ADMIN_ACCESS_ERRORS, 422: "Bad from/to (invalid) or pagination"},
    )
    def list(self, request):
        return self._search(ActivityFilter, Activity.Category.USER, ActivityWithUserSerializer)

    @barong_schema(
        summary="Operators' audit log, newest first (paginated)",
        input=ADMIN_ACTIVITY_QUERY,
        output=AdminActivitySerializer,
        many=True,
        query=True,
        errors={
            **ADMIN_ACCESS_ERRORS,
            422: "admin.activity.invalid_range, bad from/to or pagination",
        },
    )
    @action(detail=False, methods=["get"], url_path="admin")
    def admin_log(self, request):
        return self._search(AdminActivityFilter, Activity.Category.ADMIN, AdminActivitySerializer)


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
        errors={**ADMIN_ACCESS_ERRORS, 422: "Bad created_from/created_to (invalid)"},
    )
    def list(self, request):
        params = {key: value for key, value in self.params.items() if value not in ("", None)}
        data: dict[str, Any] = validate_params(MetricsInput, params, self.error_prefix)
        body: dict[str, Any] = rollup.activity_metrics(
            time_from=data.get("created_from"), time_to=data.get("created_to")
        )
        # The backlog is "now", whatever the period asked for.
        body["pending_applications"] = Label.objects.filter(
            scope=Label.Scope.PRIVATE, key="document", value="pending"
        ).count()
        return Response(body)
