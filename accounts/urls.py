"""accounts' routes: ``identity`` (public), ``resource`` and ``admin`` lists for barong/urls.py."""

from django.urls import path

from accounts import (
    activity_views,
    label_views,
    passkey_views,
    resource_views,
    security_views,
    session_views,
    views,
)
from barong.api.routers import BarongRouter

well_known = [
    path(
        ".well-known/jwks.json",
        views.GeneralViewSet.as_view({"get": "jwks"}),
        name="well-known-jwks",
    ),
]

identity_router = BarongRouter()
identity_router.register(
    "identity/sessions/webauthn", passkey_views.PasskeyLoginViewSet, basename="identity-webauthn"
)
identity_router.register("identity/sessions", views.SessionViewSet, basename="identity-sessions")
identity_router.register("identity/users", views.UserViewSet, basename="identity-users")
identity_router.register("identity", views.GeneralViewSet, basename="identity-general")

identity = identity_router.urls
resource_router = BarongRouter()
resource_router.register("users", resource_views.UserResourceViewSet, basename="resource-users")
resource_router.register(
    "otp/recovery_codes", security_views.RecoveryCodeViewSet, basename="resource-recovery-codes"
)
resource_router.register("otp", resource_views.OTPViewSet, basename="resource-otp")
resource_router.register("webauthn", passkey_views.PasskeyViewSet, basename="resource-webauthn")
resource_router.register("labels", label_views.LabelViewSet, basename="resource-labels")
resource_router.register(
    "sessions", session_views.SessionResourceViewSet, basename="resource-sessions"
)

resource = resource_router.urls
admin_router = BarongRouter()
# The user routes present KYC data: kyc lists them (kyc/urls.py).
admin_router.register(
    "activities", activity_views.AdminActivityViewSet, basename="admin-activities"
)
admin_router.register("metrics", activity_views.AdminMetricViewSet, basename="admin-metrics")
admin_router.register(
    r"users/(?P<uid>[A-Za-z0-9]{1,64})/sessions",
    session_views.AdminSessionViewSet,
    basename="admin-user-sessions",
)
admin_router.register(
    r"users/(?P<uid>[A-Za-z0-9]{1,64})/passkeys",
    session_views.AdminPasskeyViewSet,
    basename="admin-user-passkeys",
)
# ``users/{uid}`` (kyc/urls.py) refuses the word ``labels`` as a uid.
admin_router.register("users/labels", label_views.AdminUserLabelViewSet, basename="admin-labels")
admin_router.register("levels", label_views.AdminLevelViewSet, basename="admin-levels")

admin = admin_router.urls
