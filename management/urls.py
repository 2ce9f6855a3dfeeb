"""``/api/v2/management/…`` (also under ``/api/v2/barong/``): server-to-server calls."""

from django.urls import path

from barong.api.routers import BarongRouter, api_v2
from management import confirmation_views, label_views, pages, views

ROUTES = [
    ("labels/filter/users", label_views.LabelsFilterUsersView),
    ("labels/list", label_views.LabelsListView),
    ("labels/delete", label_views.LabelsDeleteView),
    ("labels", label_views.LabelsView),
    ("users/get", views.UsersGetView),
    ("users/list", views.UsersListView),
    ("users/import", views.UsersImportView),
    ("users/update", views.UsersUpdateView),
    ("users", views.UsersView),
    ("profiles", views.ProfilesView),
    ("documents", views.DocumentsView),
    ("timestamp", views.TimestampView),
    ("otp/sign", views.OtpSignView),
    ("confirmations/get", confirmation_views.ConfirmationsGetView),
    ("confirmations", confirmation_views.ConfirmationsView),
]
management = [path(route, view.as_view()) for route, view in ROUTES]
# The one GET, unsigned: the public key of otp/sign's signature (management/keys.py).
management.append(path("jwks", views.ManagementJwksView.as_view()))
# (path, method) -> security scope, for tools that sign calls (management_request).
SCOPES = {(route, method): scope for route, view in ROUTES for method, scope in view.scopes.items()}

# The user's side of a confirmation: the resource API (a session or JWT) and the page.
resource_router = BarongRouter()
resource_router.register(
    "confirmations", confirmation_views.ConfirmationViewSet, basename="resource-confirmations"
)
urlpatterns = [
    path("confirmations/<str:cid>", pages.confirmation_page, name="page-operation"),
    *api_v2(management=management, resource=resource_router.urls),
]
