"""Management labels: users having a label, a user's labels, private label writes."""

from typing import Any

from accounts.models import Label
from accounts.selectors import users_having_label
from accounts.serializers import AdminLabelViewSerializer, LabelSerializer, UserSerializer
from management import services
from management.base import ManagementView, time_bounds, user_by_uid, users_page
from management.params import (
    EXTENDED,
    PAGINATION,
    RANGES,
    TIME_PERIOD,
    USER_UID,
    Param,
)
from management.schema import management_operation

LABEL_FILTER_PARAMS = (
    Param("key", required=True, allow_blank=False),
    Param("value", allow_blank=False),
    Param("scope", allow_blank=False),
    EXTENDED,
    Param("range", default="created", values=RANGES, values_message="Invalid range"),
    *TIME_PERIOD,
    *PAGINATION,
)


class LabelsFilterUsersView(ManagementView):
    @management_operation(
        scope="read_users",
        summary="Users having a label (key, and optionally value, scope, time range)",
        params=LABEL_FILTER_PARAMS,
        output=UserSerializer(many=True),
        status=200,
    )
    def post(self, request):
        data = self.params
        holders = users_having_label(
            key=data["key"],
            value=data.get("value"),
            scope=data.get("scope"),
            narrow=lambda labels: time_bounds(labels, data),
        )
        return users_page(holders.users, data, keys=holders.ids)


LABEL_LIST_PARAMS = (USER_UID,)


class LabelsListView(ManagementView):
    @management_operation(
        scope="read_labels",
        summary="Every label of a user",
        params=LABEL_LIST_PARAMS,
        output=AdminLabelViewSerializer(many=True),
        status=201,
    )
    def post(self, request):
        data = self.params
        user = user_by_uid(data["user_uid"])
        return Label.objects.filter(user=user).order_by("id")


LABEL_CREATE_PARAMS = (
    USER_UID,
    Param("key", required=True, allow_blank=False),
    Param("value", required=True, allow_blank=False),
    Param("description", allow_blank=False),
)
LABEL_UPDATE_PARAMS = (*LABEL_CREATE_PARAMS, Param("replace", type="boolean", default=True))


class LabelsView(ManagementView):
    @management_operation(
        scope="write_labels",
        summary="Give a user a private label",
        params=LABEL_CREATE_PARAMS,
        output=LabelSerializer,
        status=201,
    )
    def post(self, request):
        return services.label_private_create(**self._label_write())

    @management_operation(
        scope="write_labels",
        summary="Change a user's private label, or create it when replace is true",
        params=LABEL_UPDATE_PARAMS,
        output=LabelSerializer,
        status=200,
    )
    def put(self, request):
        return services.label_private_update(**self._label_write(), replace=self.params["replace"])

    def _label_write(self) -> dict[str, Any]:
        """The arguments a create and an update share: whose label, its words, who signed."""
        data = self.params
        return {
            "user": user_by_uid(data["user_uid"]),
            "key": data["key"],
            "value": data["value"],
            "description": data.get("description"),
            "signers": self.signers,
            "request": self.request,
        }


LABEL_DELETE_PARAMS = (USER_UID, Param("key", required=True, allow_blank=False))


class LabelsDeleteView(ManagementView):
    @management_operation(
        scope="write_labels",
        summary="Remove a user's private label",
        params=LABEL_DELETE_PARAMS,
        output=None,
        status=204,
    )
    def post(self, request):
        data = self.params
        user = user_by_uid(data["user_uid"])
        services.label_private_delete(
            user=user, key=data["key"], signers=self.signers, request=request
        )
        return
