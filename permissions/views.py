"""Admin API: the permission table and the restrictions authz applies (AD-16…AD-23)."""

from datetime import UTC, datetime

from django.db.models import QuerySet

from barong.api.errors import ApiError
from barong.api.views import AdminViewSet, barong_schema, status_only
from permissions import serializers as s
from permissions import services
from permissions.models import Permission, Restriction

UNAUTHORIZED = "Invalid bearer token or session"
FORBIDDEN = "authz.invalid_permission (the role may not use this operation)"
PAGINATION = "non_integer_page, non_positive_page, non_integer_limit, invalid_limit"


def _row(model, pk: int, missing: str):
    """The row with id ``pk``; 404 with Barong's key when there is none."""
    found = model.objects.filter(pk=pk).first() if 1 <= pk <= s.MAX_ID else None
    if found is None:
        raise ApiError(missing, 404)
    return found


def _since_epoch(seconds: int, key: str) -> datetime:
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise ApiError(key) from exc


class PermissionViewSet(AdminViewSet):
    """``/admin/permissions``: GET list, POST create, PUT update and DELETE by ``id``."""

    error_prefix = "admin.permission"

    @barong_schema(
        summary="Every permission rule (raw rows)",
        output=s.PermissionSerializer,
        many=True,
        errors={401: UNAUTHORIZED, 403: FORBIDDEN, 422: PAGINATION},
    )
    def list(self, request):
        return self.paginated(Permission.objects.order_by("id"), s.PermissionSerializer)

    @barong_schema(
        summary="Create a permission rule for an existing role",
        input=s.PermissionCreateInput,
        errors={
            401: UNAUTHORIZED,
            403: FORBIDDEN,
            422: "admin.permission.missing_<param>, admin.permission.empty_<param>, "
            "admin.permissions.invalid_verb, admin.permissions.invalid_action, "
            "admin.permission.role_doesnt_exist, path.taken, path.too_long, topic.too_long",
        },
    )
    def create(self, request):
        params = self.parse(s.PermissionCreateInput)
        services.permission_create(admin=request.user, request=request, **params)
        return status_only(200)

    @barong_schema(
        summary="Update a permission rule (the create checks apply again)",
        input=s.PermissionUpdateInput,
        errors={
            401: UNAUTHORIZED,
            403: FORBIDDEN,
            404: "admin.permission.doesnt_exist",
            422: "admin.permission.missing_id, invalid, admin.permission.empty_<param>, "
            "admin.permissions.invalid_verb, admin.permissions.invalid_action, "
            "admin.permission.role_doesnt_exist, path.taken",
        },
    )
    def update_by_id(self, request):
        params = self.parse(s.PermissionUpdateInput)
        permission = _row(Permission, params.pop("id"), "admin.permission.doesnt_exist")
        services.permission_update(
            admin=request.user, permission=permission, request=request, **params
        )
        return status_only(200)

    @barong_schema(
        summary="Delete a permission rule",
        input=s.PermissionDeleteInput,
        query=True,
        errors={
            401: UNAUTHORIZED,
            403: FORBIDDEN,
            404: "admin.permission.doesnt_exist",
            422: "admin.permission.missing_id, invalid",
        },
    )
    def destroy_by_id(self, request):
        params = self.parse(s.PermissionDeleteInput)
        permission = _row(Permission, params["id"], "admin.permission.doesnt_exist")
        services.permission_delete(admin=request.user, permission=permission, request=request)
        return status_only(200)


class RestrictionViewSet(AdminViewSet):
    """``/admin/restrictions``: GET list, POST create, PUT update and DELETE by ``id``."""

    error_prefix = "admin.restriction"

    def _filtered(self, params: dict) -> QuerySet[Restriction]:
        rows = Restriction.objects.order_by("id")
        if params.get("scope"):
            rows = rows.filter(scope=params["scope"])
        if params.get("category"):
            rows = rows.filter(category=params["category"])
        column = f"{params.get('range') or 'created'}_at"
        if params.get("from") is not None:
            since = _since_epoch(params["from"], "admin.restriction.invalid_from")
            rows = rows.filter(**{f"{column}__gte": since})
        if params.get("to") is not None:
            # Inclusive to the second: anything before the start of the next second.
            until = _since_epoch(params["to"] + 1, "admin.restriction.invalid_to")
            rows = rows.filter(**{f"{column}__lt": until})
        return rows

    @barong_schema(
        summary="Restrictions, filtered by scope, category and time (raw rows)",
        input=s.RestrictionListInput,
        query=True,
        output=s.RestrictionSerializer,
        many=True,
        errors={
            401: UNAUTHORIZED,
            403: FORBIDDEN,
            422: "admin.restriction.invalid_scope, admin.restriction.invalid_category, "
            f"admin.restriction.invalid_range, admin.restriction.invalid_from, {PAGINATION}",
        },
    )
    def list(self, request):
        params = self.parse(s.RestrictionListInput)
        return self.paginated(self._filtered(params), s.RestrictionSerializer)

    @barong_schema(
        summary="Create a whitelist, maintenance or blacklist restriction",
        input=s.RestrictionCreateInput,
        errors={
            401: UNAUTHORIZED,
            403: FORBIDDEN,
            422: "admin.restriction.missing_<param>, admin.restriction.empty_<param>, "
            "admin.restriction.invalid_scope, admin.restriction.invalid_category, "
            "admin.restriction.invalid_state, admin.restriction.invalid_code, "
            "value.invalid, value.taken, code.invalid",
        },
    )
    def create(self, request):
        params = self.parse(s.RestrictionCreateInput)
        services.restriction_create(admin=request.user, request=request, **params)
        return status_only(200)

    @barong_schema(
        summary="Update a restriction (the value is checked against the new scope)",
        input=s.RestrictionUpdateInput,
        errors={
            401: UNAUTHORIZED,
            403: FORBIDDEN,
            404: "admin.restriction.doesnt_exist",
            422: "admin.restriction.missing_id, invalid, admin.restriction.invalid_<param>, "
            "value.invalid, value.taken, code.invalid",
        },
    )
    def update_by_id(self, request):
        params = self.parse(s.RestrictionUpdateInput)
        restriction = _row(Restriction, params.pop("id"), "admin.restriction.doesnt_exist")
        services.restriction_update(
            admin=request.user, restriction=restriction, request=request, **params
        )
        return status_only(200)

    @barong_schema(
        summary="Delete a restriction",
        input=s.RestrictionDeleteInput,
        query=True,
        errors={
            401: UNAUTHORIZED,
            403: FORBIDDEN,
            404: "admin.restriction.doesnt_exist",
            422: "admin.restriction.missing_id, invalid",
        },
    )
    def destroy_by_id(self, request):
        params = self.parse(s.RestrictionDeleteInput)
        restriction = _row(Restriction, params["id"], "admin.restriction.doesnt_exist")
        services.restriction_delete(admin=request.user, restriction=restriction, request=request)
        return status_only(200)
