"""Labels and levels, beside their models: ``/resource/labels`` (a user's public labels),
``/admin/users/labels`` (operators' label writes and "users having a label") and
``/admin/levels``."""

import json

from django.db.models import Count, QuerySet
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts import serializers as s
from accounts import services
from accounts.models import Label, Level
from accounts.selectors import admin_user_get, label_user_find, users_having_label
from accounts.serializers import LabelSerializer, LevelSerializer, UserSerializer
from barong.api.errors import ApiError
from barong.api.views import (
    ADMIN_ACCESS_ERRORS,
    RESOURCE_ACCESS_ERRORS,
    AdminViewSet,
    ResourceViewSet,
    barong_schema,
    status_only,
)

LABEL_WRITE_ERRORS = {
    **ADMIN_ACCESS_ERRORS,
    404: "admin.user.doesnt_exist or admin.label.doesnt_exist",
    422: "Missing or blank parameters, rank guards, or label validation (key.taken, ...)",
}


class LabelViewSet(ResourceViewSet):
    """``/resource/labels`` and ``/resource/labels/{key}``: users manage their PUBLIC labels."""

    error_prefix = "resource.label"
    lookup_field = "key"
    lookup_value_regex = r"[^/]+"

    def _label(self, key: str) -> Label:
        label = label_user_find(user=self.request.user, key=key)
        if label is None:
            raise ApiError("record.not_found", 404)
        return label

    @barong_schema(
        summary="All labels of the current user (public and private)",
        output=LabelSerializer,
        many=True,
        errors=RESOURCE_ACCESS_ERRORS,
    )
    def list(self, request):
        labels: QuerySet[Label] = Label.objects.filter(user=request.user).order_by("id")
        return Response(LabelSerializer(labels, many=True).data)

    @barong_schema(
        summary="One label of the current user by key (any scope)",
        output=LabelSerializer,
        errors={**RESOURCE_ACCESS_ERRORS, 404: "record.not_found"},
    )
    def retrieve(self, request, key: str):
        return Response(LabelSerializer(self._label(key)).data)

    @barong_schema(
        summary="Add a public label (key and value lower-cased, 3-255 chars of a-z 0-9 _ -)",
        input=s.UserLabelCreateInput,
        output=LabelSerializer,
        status=201,
        errors={
            **RESOURCE_ACCESS_ERRORS,
            422: "resource.label.missing_key|empty_key|missing_value|empty_value, key.taken, "
            "key.invalid, key.too_short, key.too_long, key.reserved, value.invalid, ...",
        },
    )
    def create(self, request):
        data = self.parse(s.UserLabelCreateInput)
        label = services.label_public_create(user=request.user, **data)
        return Response(LabelSerializer(label).data, status=status.HTTP_201_CREATED)

    @barong_schema(
        summary="Change the value of a public label",
        input=s.UserLabelUpdateInput,
        output=LabelSerializer,
        errors={
            **RESOURCE_ACCESS_ERRORS,
            400: "resource.labels.private",
            404: "record.not_found",
            422: "resource.label.missing_value|empty_value, value.invalid, value.too_short, "
            "key.reserved",
        },
    )
    def partial_update(self, request, key: str):
        data = self.parse(s.UserLabelUpdateInput)
        label = services.label_public_update(label=self._label(key), value=data["value"])
        return Response(LabelSerializer(label).data)

    @barong_schema(
        summary="Delete a public label",
        status=204,
        errors={
            **RESOURCE_ACCESS_ERRORS,
            400: "resource.labels.private",
            404: "record.not_found",
            422: "key.reserved",
        },
    )
    def destroy(self, request, key: str):
        services.label_public_delete(label=self._label(key))
        return Response(status=status.HTTP_204_NO_CONTENT)


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
        input=s.LabelUsersInput,
        output=UserSerializer,
        many=True,
        query=True,
        errors={**ADMIN_ACCESS_ERRORS, 422: "Missing key or value, bad pagination"},
    )
    def list(self, request):
        data = self.parse(s.LabelUsersInput)
        holders = users_having_label(key=data["key"], value=data["value"])
        users = holders.users.select_related("referral")
        return self.paginated(users, UserSerializer, holders.ids)

    @barong_schema(
        summary="Count private labels by key and value",
        # Keys are Barong's Ruby-rendered pairs: {"[\"email\", \"verified\"]": 3}
        output={"type": "object", "additionalProperties": {"type": "integer"}},
        errors=ADMIN_ACCESS_ERRORS,
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
        input=s.LabelCreateInput,
        errors=LABEL_WRITE_ERRORS,
    )
    def create(self, request):
        return self._label_write(s.LabelCreateInput, services.label_admin_create)

    @barong_schema(
        summary="Change the value (and description when sent) of a user's label (answers {})",
        input=s.LabelUpdateInput,
        errors=LABEL_WRITE_ERRORS,
    )
    def update_by_id(self, request):
        return self._label_write(s.LabelUpdateInput, services.label_admin_update)

    @barong_schema(
        summary="Set a user's label value and description, creating it if replace (answers {})",
        input=s.LabelUpsertInput,
        errors=LABEL_WRITE_ERRORS,
    )
    @action(detail=False, methods=["post"], url_path="update")
    def upsert(self, request):
        return self._label_write(s.LabelUpsertInput, services.label_admin_upsert)

    @barong_schema(
        summary="Delete a user's label (answers {})",
        input=s.LabelDeleteInput,
        query=True,
        errors=LABEL_WRITE_ERRORS,
    )
    def destroy_by_id(self, request):
        return self._label_write(s.LabelDeleteInput, services.label_admin_delete)


class AdminLevelViewSet(AdminViewSet):
    """``/admin/levels``: the level table, not paginated."""

    error_prefix = "admin.level"
    pagination_class = None

    @barong_schema(
        summary="All levels (id is the level number)",
        output=LevelSerializer,
        many=True,
        errors=ADMIN_ACCESS_ERRORS,
    )
    def list(self, request):
        return Response(LevelSerializer(Level.objects.order_by("id"), many=True).data)
