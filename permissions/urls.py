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
authz: list = [re_path(r"(?s)^api/v2/auth(?:/(?P<path>.*))?\Z", authz_view, name="authz")]
