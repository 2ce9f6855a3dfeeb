"""``/api/v2/management/…`` (also under ``/api/v2/barong/``): server-to-server calls."""

from django.urls import path

from management import views

ROUTES = [
    ("labels/filter/users", views.LabelsFilterUsersView),
    ("labels/list", views.LabelsListView),
    ("labels/delete", views.LabelsDeleteView),
    ("labels", views.LabelsView),
    ("users/get", views.UsersGetView),
    ("users/list", views.UsersListView),
    ("users/import", views.UsersImportView),
    ("users/update", views.UsersUpdateView),
    ("users", views.UsersView),
    ("profiles", views.ProfilesView),
    ("documents", views.DocumentsView),
    ("timestamp", views.TimestampView),
    ("otp/sign", views.OtpSignView),
]
management = [path(route, view.as_view()) for route, view in ROUTES]
# (path, method) -> security scope, for tools that sign calls (management_request).
SCOPES = {(route, method): scope for route, view in ROUTES for method, scope in view.scopes.items()}
