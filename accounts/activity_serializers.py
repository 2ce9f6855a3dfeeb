"""Activity entities for operators: ActivityWithUser and AdminActivity."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import User
from accounts.serializers import UserSerializer
from activities.models import Activity
from barong.api.fields import EntityTime

ACTIVITY_FIELDS = ["user_ip", "user_agent", "topic", "action", "result", "data"]


class ActivityWithUserSerializer(serializers.ModelSerializer):
    """A user-category row with the user who acted."""

    user = UserSerializer(read_only=True)
    created_at = EntityTime()

    class Meta:
        model = Activity
        fields = [*ACTIVITY_FIELDS, "user", "created_at"]


class AdminActivityListSerializer(serializers.ListSerializer):
    """Loads every target of the page in one query (``target_uid`` is not a foreign key)."""

    def to_representation(self, data):
        rows = list(data.all() if hasattr(data, "all") else data)
        uids = {row.target_uid for row in rows if row.target_uid}
        targets = User.objects.filter(uid__in=uids).select_related("referral") if uids else []
        # Serialized once with one child serializer: building a ModelSerializer per row
        # costs more than the whole query.
        self.context["targets"] = {
            entry["uid"]: entry for entry in UserSerializer(targets, many=True).data
        }
        return super().to_representation(rows)


class AdminActivitySerializer(serializers.ModelSerializer):
    """An admin-category row: the operator who acted and the user acted on (or null)."""

    admin = UserSerializer(source="user", read_only=True)
    target = serializers.SerializerMethodField()
    created_at = EntityTime()

    class Meta:
        model = Activity
        fields = [*ACTIVITY_FIELDS, "admin", "target", "created_at"]
        list_serializer_class = AdminActivityListSerializer

    @extend_schema_field(UserSerializer(allow_null=True))
    def get_target(self, activity: Activity) -> dict | None:
        if not activity.target_uid:
            return None
        targets = self.context.get("targets")
        if targets is not None:
            return targets.get(activity.target_uid)
        # A single row, outside a list.
        user = User.objects.filter(uid=activity.target_uid).select_related("referral").first()
        return UserSerializer(user).data if user is not None else None
