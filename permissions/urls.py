"""permissions' routes: ``identity``, ``resource`` and ``admin`` lists for barong/urls.py,
and ``authz``, the gateway's authorization endpoint mounted at the top level."""

from django.urls import re_path

from barong.api.routers import BarongRouter
from permissions import views
from permissions.authz import authz_view

admin_router = BarongRouter()
admin_router.register("permissions", views.PermissionViewSet, basename="admin-permissions")
admin_router.register("restrictions", views.RestrictionViewSet, basename="admin-restrictions")

identity: list = []
resource: list = []
admin: list = admin_router.urls
# Any path at all, newlines and NULs included, so hostile input gets an authz answer.
# permissions.middleware.AuthzMiddleware answers these paths before URL resolution; the
# route names the endpoint (reverse) and serves it should that middleware be left out.
# [\s\S] rather than a (?s) flag: Django cannot reverse any URL of a resolver holding one.
authz: list = [re_path(r"^api/v2/auth(?:/(?P<path>[\s\S]*))?\Z", authz_view, name="authz")]
