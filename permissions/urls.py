"""permissions' routes: the admin API's rules, and the gateway's authorization endpoint
(``/api/v2/auth``) at the top level."""

from django.urls import re_path

from barong.api.routers import BarongRouter, api_v2
from permissions import views
from permissions.authz import authz_view

admin_router = BarongRouter()
admin_router.register("permissions", views.PermissionViewSet, basename="admin-permissions")
admin_router.register("restrictions", views.RestrictionViewSet, basename="admin-restrictions")

# Any path at all, newlines and NULs included, so hostile input gets an authz answer.
# permissions.middleware.AuthzMiddleware answers these paths before URL resolution; the
# route names the endpoint (reverse) and serves it should that middleware be left out.
# [\s\S] rather than a (?s) flag: Django cannot reverse any URL of a resolver holding one.
urlpatterns = [
    re_path(r"^api/v2/auth(?:/(?P<path>[\s\S]*))?\Z", authz_view, name="authz"),
    *api_v2(admin=admin_router.urls),
]
