"""accounts' routes: the identity API (public), its resource and admin routes, the JWKS."""

from django.urls import path

from accounts.views import (
    activities,
    identity,
    labels,
    own_account,
    passkeys,
    recovery_codes,
    sessions,
)
from barong.api.routers import BarongRouter, api_v2

identity_router = BarongRouter()
identity_router.register(
    "identity/sessions/webauthn", passkeys.PasskeyLoginViewSet, basename="identity-webauthn"
)
identity_router.register("identity/sessions", identity.SessionViewSet, basename="identity-sessions")
identity_router.register("identity/users", identity.UserViewSet, basename="identity-users")
identity_router.register("identity", identity.GeneralViewSet, basename="identity-general")

resource_router = BarongRouter()
resource_router.register("users", own_account.UserResourceViewSet, basename="resource-users")
resource_router.register(
    "otp/recovery_codes", recovery_codes.RecoveryCodeViewSet, basename="resource-recovery-codes"
)
resource_router.register("otp", own_account.OTPViewSet, basename="resource-otp")
resource_router.register("webauthn", passkeys.PasskeyViewSet, basename="resource-webauthn")
resource_router.register("labels", labels.LabelViewSet, basename="resource-labels")
resource_router.register("sessions", sessions.SessionResourceViewSet, basename="resource-sessions")

admin_router = BarongRouter()
# The user routes present KYC data: kyc lists them (kyc/urls.py).
admin_router.register("activities", activities.AdminActivityViewSet, basename="admin-activities")
admin_router.register("metrics", activities.AdminMetricViewSet, basename="admin-metrics")
admin_router.register(
    r"users/(?P<uid>[A-Za-z0-9]{1,64})/sessions",
    sessions.AdminSessionViewSet,
    basename="admin-user-sessions",
)
admin_router.register(
    r"users/(?P<uid>[A-Za-z0-9]{1,64})/passkeys",
    sessions.AdminPasskeyViewSet,
    basename="admin-user-passkeys",
)
# ``users/{uid}`` (kyc/urls.py) refuses the word ``labels`` as a uid.
admin_router.register("users/labels", labels.AdminUserLabelViewSet, basename="admin-labels")
admin_router.register("levels", labels.AdminLevelViewSet, basename="admin-levels")

urlpatterns = [
    path(
        ".well-known/jwks.json",
        identity.GeneralViewSet.as_view({"get": "jwks"}),
        name="well-known-jwks",
    ),
    *api_v2(identity=identity_router.urls, resource=resource_router.urls, admin=admin_router.urls),
]
