"""accounts' routes: ``identity`` (public), ``resource`` and ``admin`` lists for barong/urls.py."""

from django.urls import path

from accounts import admin_views, resource_views, views
from barong.api.routers import BarongRouter

well_known = [
    path(
        ".well-known/jwks.json",
        views.GeneralViewSet.as_view({"get": "jwks"}),
        name="well-known-jwks",
    ),
]

identity_router = BarongRouter()
identity_router.register("identity/sessions", views.SessionViewSet, basename="identity-sessions")
identity_router.register("identity/users", views.UserViewSet, basename="identity-users")
identity_router.register("identity", views.GeneralViewSet, basename="identity-general")

identity = identity_router.urls
resource_router = BarongRouter()
resource_router.register("users", resource_views.UserResourceViewSet, basename="resource-users")
resource_router.register("otp", resource_views.OTPViewSet, basename="resource-otp")

resource = resource_router.urls
admin_router = BarongRouter()
# Literal sub-paths (update, role, documents/pending, data_storage) are matched before
# ``users/{uid}``, whose uid pattern also refuses those words (kyc's ``users/labels``).
admin_router.register("users", admin_views.AdminUserViewSet, basename="admin-users")

admin = admin_router.urls
