"""Admin API, users: search, one user's KYC file, state, 2FA, role, data storage.

These routes present a user with their KYC data, so they live in kyc (above accounts);
the changes themselves are accounts' services.
"""

from django.db.models import QuerySet
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.models import User
from accounts.selectors import admin_user_get, user_ids_page
from accounts.serializers import UserSerializer
from accounts.services import user_otp_admin_set, user_role_admin_set, user_state_admin_set
from barong.api.filters import query_schema
from barong.api.pagination import Positions
from barong.api.views import ADMIN_ACCESS_ERRORS, AdminViewSet, barong_schema, status_only
from kyc.filters import UserFilter
from kyc.selectors import (
    pending_document_user_ids,
    users_for_entity,
    users_with_pending_documents,
)
from kyc.serializers import (
    UserDataStorageDeleteInput,
    UserRoleInput,
    UserUpdateInput,
    UserWithKYCSerializer,
    UserWithProfileSerializer,
)
from kyc.services import data_storage_admin_delete

# Barong's uids are ``<PREFIX><HEX>``; the words below are sibling routes, never uids.
UID_PATH_REGEX = r"(?!(?:labels|documents|data_storage|update|role)$)[A-Za-z0-9]{1,64}"

UserListQuery = query_schema(UserFilter)

SEARCH_ERRORS = {
    **ADMIN_ACCESS_ERRORS,
    422: "Invalid filter or pagination parameter",
}
WRITE_ERRORS = {
    **ADMIN_ACCESS_ERRORS,
    404: "admin.user.doesnt_exist",
    422: "Validation errors, guards (rank, superadmin, himself) or no change",
}


class AdminUserViewSet(AdminViewSet):
    """``/admin/users``, ``/admin/users/{uid}`` and their literal sub-paths."""

    error_prefix = "admin.user"
    lookup_field = "uid"
    lookup_url_kwarg = "uid"
    lookup_value_regex = UID_PATH_REGEX

    def _search(
        self,
        base: QuerySet[User],
        extended_serializer: type,
        positions: Positions | None = None,
        keys: QuerySet | None = None,
    ) -> Response:
        """``positions`` (all users) or ``keys`` (the KYC queue) page the unfiltered ``base``
        without walking it; a filter that leaves users out pages ``base`` itself, except
        profile filters alone on the queue, which narrow ``keys`` (``keys_narrowed``)."""
        filters = UserFilter(data=self.params, queryset=base)
        users = filters.filtered(self.error_prefix)
        serializer_class = extended_serializer if filters.values.get("extended") else UserSerializer
        narrowed = filters.narrows()
        if narrowed and keys is not None:
            keys = filters.keys_narrowed(keys, "user_id")
        return self.paginated(
            users_for_entity(users, serializer_class),
            serializer_class,
            keys=keys,
            positions=None if narrowed else positions,
        )

    @barong_schema(
        summary="Search users (paginated); extended=true adds their profiles",
        description="Each item is a User; with extended=true it also carries profiles,"
        " created_at and updated_at (UserWithProfile).",
        input=UserListQuery,
        output=UserSerializer,
        many=True,
        query=True,
        errors=SEARCH_ERRORS,
    )
    def list(self, request):
        return self._search(
            User.objects.order_by("id"), UserWithProfileSerializer, positions=user_ids_page
        )

    @barong_schema(
        summary="A user with profiles, labels, phones, documents and data storage",
        output=UserWithKYCSerializer,
        errors={**ADMIN_ACCESS_ERRORS, 404: "admin.user.doesnt_exist"},
    )
    def retrieve(self, request, uid: str):
        user = admin_user_get(uid, users_for_entity(User.objects, UserWithKYCSerializer))
        return Response(UserWithKYCSerializer(user).data)

    def _update(self) -> Response:
        data = self.parse(UserUpdateInput)
        user = admin_user_get(data["uid"])
        if "state" in data:
            user_state_admin_set(
                admin=self.request.user, user=user, state=data["state"], request=self.request
            )
        else:
            user_otp_admin_set(
                admin=self.request.user, user=user, otp=data["otp"], request=self.request
            )
        return status_only(200)

    @barong_schema(
        summary="Change a user's state, or switch their 2FA off (answers {})",
        input=UserUpdateInput,
        errors=WRITE_ERRORS,
    )
    def update_by_id(self, request):
        return self._update()

    @barong_schema(
        summary="Change a user's state, or switch their 2FA off (POST form; answers {})",
        input=UserUpdateInput,
        errors=WRITE_ERRORS,
    )
    @action(detail=False, methods=["post"], url_path="update")
    def update_form(self, request):
        return self._update()

    @barong_schema(
        summary="Give a user another role ranked below the caller's (answers {})",
        input=UserRoleInput,
        errors=WRITE_ERRORS,
    )
    @action(detail=False, methods=["post"], url_path="role")
    def role(self, request):
        data = self.parse(UserRoleInput)
        user = admin_user_get(data["uid"])
        user_role_admin_set(admin=request.user, user=user, role=data["role"], request=self.request)
        return status_only(200)

    @barong_schema(
        summary="Users whose documents await a decision, oldest first (paginated)",
        description="Each item is a User; with extended=true it is the whole KYC file"
        " (UserWithKYC).",
        input=UserListQuery,
        output=UserSerializer,
        many=True,
        query=True,
        errors=SEARCH_ERRORS,
    )
    @action(detail=False, methods=["get"], url_path="documents/pending")
    def documents_pending(self, request):
        return self._search(
            users_with_pending_documents(), UserWithKYCSerializer, keys=pending_document_user_ids()
        )

    @barong_schema(
        summary="Delete a user's data storage and its label; answers the user's KYC file",
        input=UserDataStorageDeleteInput,
        output=UserWithKYCSerializer,
        query=True,
        errors={
            **WRITE_ERRORS,
            404: "admin.user.doesnt_exist or admin.storage.doesnt_exist",
            422: "Missing or blank parameters, rank guards",
        },
    )
    @action(detail=False, methods=["delete"], url_path="data_storage")
    def data_storage(self, request):
        data = self.parse(UserDataStorageDeleteInput)
        user = admin_user_get(data["uid"])
        data_storage_admin_delete(
            admin=request.user, user=user, title=data["title"], request=self.request
        )
        user = admin_user_get(user.uid, users_for_entity(User.objects, UserWithKYCSerializer))
        return Response(UserWithKYCSerializer(user).data)
