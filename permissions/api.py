"""In-app authorization: the same permission table the authz endpoint uses.

Barong checks no role inside the admin endpoints and leaves that to the gateway; clients
may call them directly here with a JWT, so the app applies the rules itself."""

from rest_framework.permissions import BasePermission

from activities.services import METHOD_ACTIONS, admin_activity_record
from barong.api.errors import ApiError
from permissions import engine
from permissions.authz import audit_topic


class RolePermission(BasePermission):
    """Apply the role rules to ``/api/v2/<x>`` as ``api/v2/barong/<x>``; denials are logged."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        if user is None:
            raise ApiError("jwt.decode_and_verify", 401)
        path = engine.gateway_path(request.path)
        decision = engine.check(user.role, request.method, path)
        if not decision.allowed:
            admin_activity_record(
                admin=user,
                topic=audit_topic(path, None),
                action=METHOD_ACTIONS.get(request.method.upper(), "system"),
                request=request,
                data={"path": path},
                result="denied",
            )
            raise ApiError("authz.invalid_permission", 403)
        return True
