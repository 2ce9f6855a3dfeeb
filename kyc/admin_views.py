"""Admin API, KYC: user labels, profiles and levels."""

import json
from typing import Any

from django.db.models import Count, Exists, OuterRef
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts import services as account_services
from accounts.labels import label_normalize
from accounts.models import Label, Level, User
from accounts.selectors import admin_user_get
from accounts.serializers import LevelSerializer, UserSerializer
from barong.api.errors import ApiError
from barong.api.params import Bool, Str
from barong.api.views import AdminViewSet, barong_schema, status_only
from kyc import services
from kyc.models import Profile
from kyc.selectors import users_for_entity
from kyc.serializers import ProfileSerializer

ACCESS_ERRORS = {401: "Invalid bearer token", 403: "The role may not use this endpoint"}
LABEL_WRITE_ERRORS = {
    **ACCESS_ERRORS,
    404: "admin.user.doesnt_exist or admin.label.doesnt_exist",
    422: "Missing or blank parameters, rank guards, or label validation (key.taken, ...)",
}
LABEL_KEY_HELP = "label key. [a-z0-9_-]+ should be used. Min - 3, max - 255 characters."
LABEL_VALUE_HELP = "label value. [a-z0-9_-]+ should be used. Min - 3, max - 255 characters."
DESCRIPTION_HELP = "label description, at most 255 characters"


# ---------------------------------------------------------------- inputs


class LabelUsersInput(serializers.Serializer):
    key = Str(allow_blank=True, help_text="Label key")
    value = Str(allow_blank=True, help_text="Label value")


class LabelCreateInput(serializers.Serializer):
    uid = Str(allow_blank=False, help_text="user uniq id")
    key = Str(allow_blank=False, help_text=LABEL_KEY_HELP)
    value = Str(allow_blank=False, help_text=LABEL_VALUE_HELP)
    description = Str(required=False, allow_blank=False, help_text=DESCRIPTION_HELP)
    scope = Str(
        required=False,
        allow_blank=False,
        default=Label.Scope.PUBLIC,
        help_text="Label scope: 'public' or 'private'. Default is public",
    )


class LabelUpdateInput(serializers.Serializer):
    uid = Str(allow_blank=False, help_text="user uniq id")
    key = Str(allow_blank=False, help_text="Label key.")
    scope = Str(allow_blank=False, help_text="Label scope: 'public' or 'private'")
    value = Str(allow_blank=False, help_text="Label value.")
    description = Str(required=False, allow_blank=False, help_text=DESCRIPTION_HELP)


class LabelUpsertInput(LabelUpdateInput):
    replace = Bool(
        required=False,
        default=True,
        error_messages={"invalid": "admin.user.non_boolean_replace"},
        help_text="When true (default) the label is created if it does not exist",
    )


class LabelDeleteInput(serializers.Serializer):
    uid = Str(allow_blank=False, help_text="user uniq id")
    key = Str(allow_blank=False, help_text=LABEL_KEY_HELP)
    scope = Str(allow_blank=False, help_text="Label scope: 'public' or 'private'")


class AdminDate(serializers.DateField):
    """Barong's ``Date``: ISO ``YYYY-MM-DD``; blank clears the field; junk is ``invalid``."""

    default_error_messages = {"invalid": "invalid", "datetime": "invalid"}

    def to_internal_value(self, value: Any):
        if value in ("", None):
            return None
        if not isinstance(value, str) or len(value) > 32:
            self.fail("invalid")
        return super().to_internal_value(value.strip())


class ProfileAdminUpdateInput(serializers.Serializer):
    uid = Str(
        allow_blank=False,
        error_messages={"required": "admin.profile.missing_uid"},
        help_text="uid of the user whose submitted profile is edited",
    )
    first_name = Str(required=False, allow_blank=True)
    last_name = Str(required=False, allow_blank=True)
    dob = AdminDate(required=False, allow_null=True, help_text="YYYY-MM-DD")
    address = Str(required=False, allow_blank=True)
    postcode = Str(required=False, allow_blank=True)
    city = Str(required=False, allow_blank=True)
    country = Str(required=False, allow_blank=True, help_text="ISO 3166 alpha-2 or alpha-3")
    state = Str(
        required=False,
        allow_blank=False,
        help_text="drafted, submitted, verified or rejected (the operator's decision)",
    )
    metadata = Str(
        required=False,
        allow_blank=True,
        help_text="Any additional key: value pairs in json string format",
    )


# ---------------------------------------------------------------- views


class AdminUserLabelViewSet(AdminViewSet):
    """``/admin/users/labels`` (GET/POST/PUT/DELETE), ``…/labels/update``, ``…/labels/list``."""

    error_prefix = "admin.user"

    def _label_write(self, input_class: type[serializers.Serializer], service) -> Response:
        """The four label writes: parse, find the user by uid, call the service, answer {}."""
        data = self.parse(input_class)
        user = admin_user_get(data.pop("uid"))
        service(admin=self.request.user, user=user, request=self.request, **data)
        return status_only(200)

    @barong_schema(
        summary="Users having a label with this key and value, any scope (paginated)",
        input=LabelUsersInput,
        output=UserSerializer,
        many=True,
        query=True,
        errors={**ACCESS_ERRORS, 422: "Missing key or value, bad pagination"},
    )
    def list(self, request):
        data = self.parse(LabelUsersInput)
        labels = Label.objects.filter(
            key=label_normalize(data["key"]),
            value=label_normalize(data["value"]),
        )
        users = User.objects.filter(Exists(labels.filter(user=OuterRef("pk")))).order_by("id")
        # The page's user ids straight from the (key, value, user_id) index.
        keys = labels.order_by("user_id").values_list("user_id", flat=True).distinct()
        return self.paginated(users_for_entity(users, UserSerializer), UserSerializer, keys)

    @barong_schema(
        summary="Count private labels by key and value",
        # Keys are Barong's Ruby-rendered pairs: {"[\"email\", \"verified\"]": 3}
        output={"type": "object", "additionalProperties": {"type": "integer"}},
        errors=ACCESS_ERRORS,
    )
    @action(detail=False, methods=["get"], url_path="list")
    def statistics(self, request):
        rows = (
            Label.objects.filter(scope=Label.Scope.PRIVATE)
            .values_list("key", "value")
            .annotate(count=Count("id"))
            .order_by("key", "value")
        )
        # Barong's keys are Ruby's Array#to_s of the pair: ["email", "verified"].
        return Response({json.dumps([key, value]): count for key, value, count in rows})

    @barong_schema(
        summary="Add a label to a user (answers {})",
        input=LabelCreateInput,
        errors=LABEL_WRITE_ERRORS,
    )
    def create(self, request):
        return self._label_write(LabelCreateInput, account_services.label_admin_create)

    @barong_schema(
        summary="Change the value (and description when sent) of a user's label (answers {})",
        input=LabelUpdateInput,
        errors=LABEL_WRITE_ERRORS,
    )
    def update_by_id(self, request):
        return self._label_write(LabelUpdateInput, account_services.label_admin_update)

    @barong_schema(
        summary="Set a user's label value and description, creating it if replace (answers {})",
        input=LabelUpsertInput,
        errors=LABEL_WRITE_ERRORS,
    )
    @action(detail=False, methods=["post"], url_path="update")
    def upsert(self, request):
        return self._label_write(LabelUpsertInput, account_services.label_admin_upsert)

    @barong_schema(
        summary="Delete a user's label (answers {})",
        input=LabelDeleteInput,
        query=True,
        errors=LABEL_WRITE_ERRORS,
    )
    def destroy_by_id(self, request):
        return self._label_write(LabelDeleteInput, account_services.label_admin_delete)


class AdminProfileViewSet(AdminViewSet):
    """``/admin/profiles``: every profile, and an operator's edit of a submitted one."""

    error_prefix = "admin.profile"

    @barong_schema(
        summary="All profiles, in table order (paginated)",
        output=ProfileSerializer,
        many=True,
        errors={**ACCESS_ERRORS, 422: "Bad pagination"},
    )
    def list(self, request):
        return self.paginated(Profile.objects.order_by("id"), ProfileSerializer)

    @barong_schema(
        summary="Edit a user's submitted profile and decide it (state verified/rejected)",
        input=ProfileAdminUpdateInput,
        output=ProfileSerializer,
        errors={
            **ACCESS_ERRORS,
            404: "admin.profiles.doesnt_exist_or_not_editable",
            422: "Missing uid, rank guards, or profile validation (state.inclusion, ...)",
        },
    )
    def update_by_id(self, request):
        data = self.parse(ProfileAdminUpdateInput)
        uid = data.pop("uid")
        profile = (
            Profile.objects.filter(user__uid=uid.upper(), state=Profile.State.SUBMITTED)
            .order_by("-id")
            .first()
        )
        if profile is None:
            raise ApiError("admin.profiles.doesnt_exist_or_not_editable", 404)
        profile = services.profile_admin_update(
            admin=request.user, profile=profile, fields=data, request=request
        )
        return Response(ProfileSerializer(profile).data)


class AdminLevelViewSet(AdminViewSet):
    """``/admin/levels``: the level table, not paginated."""

    error_prefix = "admin.level"
    pagination_class = None

    @barong_schema(
        summary="All levels (id is the level number)",
        output=LevelSerializer,
        many=True,
        errors=ACCESS_ERRORS,
    )
    def list(self, request):
        return Response(LevelSerializer(Level.objects.order_by("id"), many=True).data)
