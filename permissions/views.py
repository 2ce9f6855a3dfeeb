"""Admin API: the permission table and the restrictions authz applies."""

from rest_framework.response import Response

from barong.api.errors import ApiError
from barong.api.filters import query_schema
from barong.api.views import AdminViewSet, barong_schema, status_only
from permissions import serializers as s
from permissions import services
from permissions.filters import RestrictionFilter
from permissions.models import Permission, Restriction

ACCESS = {
    401: "Invalid bearer token or session",
    403: "authz.invalid_permission (the role may not use this operation)",
}
RESTRICTION_QUERY = query_schema(RestrictionFilter)
PAGINATION = "non_integer_page, non_positive_page, non_integer_limit, invalid_limit"


def _row(table: services.RuleTable, pk: int):
    """The row with id ``pk``; 404 with Barong's key when there is none."""
    found = table.model.objects.filter(pk=pk).first() if 1 <= pk <= s.MAX_ID else None
    if found is None:
        raise ApiError(table.missing, 404)
    return found


class RuleViewSet(AdminViewSet):
    """Create, update and delete by ``id`` of one rule table, through ``rule_*``."""

    table: services.RuleTable

    def _create(self, input_class: type) -> Response:
        params = self.parse(input_class)
        services.rule_create(self.table, admin=self.request.user, request=self.request, **params)
        return status_only(200)

    def _update(self, input_class: type) -> Response:
        params = self.parse(input_class)
        row = _row(self.table, params.pop("id"))
        services.rule_update(
            self.table, admin=self.request.user, row=row, request=self.request, **params
        )
        return status_only(200)

    def _destroy(self, input_class: type) -> Response:
        row = _row(self.table, self.parse(input_class)["id"])
        services.rule_delete(self.table, admin=self.request.user, row=row, request=self.request)
        return status_only(200)


class PermissionViewSet(RuleViewSet):
    """``/admin/permissions``: GET list, POST create, PUT update and DELETE by ``id``."""

    error_prefix = "admin.permission"
    table = services.PERMISSIONS

    @barong_schema(
        summary="Every permission rule (raw rows)",
        output=s.PermissionSerializer,
        many=True,
        errors={**ACCESS, 422: PAGINATION},
    )
    def list(self, request):
        return self.paginated(Permission.objects.order_by("id"), s.PermissionSerializer)

    @barong_schema(
        summary="Create a permission rule for an existing role",
        input=s.PermissionCreateInput,
        errors={
            **ACCESS,
            422: "admin.permission.missing_<param>, admin.permission.empty_<param>, "
            "admin.permissions.invalid_verb, admin.permissions.invalid_action, "
            "admin.permission.role_doesnt_exist, path.taken, path.too_long, topic.too_long",
        },
    )
    def create(self, request):
        return self._create(s.PermissionCreateInput)

    @barong_schema(
        summary="Update a permission rule (the create checks apply again)",
        input=s.PermissionUpdateInput,
        errors={
            **ACCESS,
            404: "admin.permission.doesnt_exist",
            422: "admin.permission.missing_id, invalid, admin.permission.empty_<param>, "
            "admin.permissions.invalid_verb, admin.permissions.invalid_action, "
            "admin.permission.role_doesnt_exist, path.taken",
        },
    )
    def update_by_id(self, request):
        return self._update(s.PermissionUpdateInput)

    @barong_schema(
        summary="Delete a permission rule",
        input=s.PermissionDeleteInput,
        query=True,
        errors={
            **ACCESS,
            404: "admin.permission.doesnt_exist",
            422: "admin.permission.missing_id, invalid",
        },
    )
    def destroy_by_id(self, request):
        return self._destroy(s.PermissionDeleteInput)


class RestrictionViewSet(RuleViewSet):
    """``/admin/restrictions``: GET list, POST create, PUT update and DELETE by ``id``."""

    error_prefix = "admin.restriction"
    table = services.RESTRICTIONS

    @barong_schema(
        summary="Restrictions, filtered by scope, category and time (raw rows)",
        input=RESTRICTION_QUERY,
        query=True,
        output=s.RestrictionSerializer,
        many=True,
        errors={
            **ACCESS,
            422: "admin.restriction.invalid_scope, admin.restriction.invalid_category, "
            "admin.restriction.invalid_range, admin.restriction.invalid_from, "
            f"admin.restriction.invalid_to, {PAGINATION}",
        },
    )
    def list(self, request):
        filters = RestrictionFilter(data=self.params, queryset=Restriction.objects.order_by("id"))
        return self.paginated(filters.filtered(self.error_prefix), s.RestrictionSerializer)

    @barong_schema(
        summary="Create a whitelist, maintenance or blacklist restriction",
        input=s.RestrictionCreateInput,
        errors={
            **ACCESS,
            422: "admin.restriction.missing_<param>, admin.restriction.empty_<param>, "
            "admin.restriction.invalid_scope, admin.restriction.invalid_category, "
            "admin.restriction.invalid_state, admin.restriction.invalid_code, "
            "value.invalid, value.taken, code.invalid",
        },
    )
    def create(self, request):
        return self._create(s.RestrictionCreateInput)

    @barong_schema(
        summary="Update a restriction (the value is checked against the new scope)",
        input=s.RestrictionUpdateInput,
        errors={
            **ACCESS,
            404: "admin.restriction.doesnt_exist",
            422: "admin.restriction.missing_id, invalid, admin.restriction.invalid_<param>, "
            "value.invalid, value.taken, code.invalid",
        },
    )
    def update_by_id(self, request):
        return self._update(s.RestrictionUpdateInput)

    @barong_schema(
        summary="Delete a restriction",
        input=s.RestrictionDeleteInput,
        query=True,
        errors={
            **ACCESS,
            404: "admin.restriction.doesnt_exist",
            422: "admin.restriction.missing_id, invalid",
        },
    )
    def destroy_by_id(self, request):
        return self._destroy(s.RestrictionDeleteInput)
