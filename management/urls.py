"""``/api/v2/management/…`` (also under ``/api/v2/barong/``): server-to-server calls."""

from django.urls import path

from management import views

management = [
    path("labels/filter/users", views.LabelsFilterUsersView.as_view()),
    path("labels/list", views.LabelsListView.as_view()),
    path("labels/delete", views.LabelsDeleteView.as_view()),
    path("labels", views.LabelsView.as_view()),
    path("users/get", views.UsersGetView.as_view()),
    path("users/list", views.UsersListView.as_view()),
    path("users/import", views.UsersImportView.as_view()),
    path("users/update", views.UsersUpdateView.as_view()),
    path("users", views.UsersView.as_view()),
    path("profiles", views.ProfilesView.as_view()),
    path("documents", views.DocumentsView.as_view()),
    path("timestamp", views.TimestampView.as_view()),
    path("otp/sign", views.OtpSignView.as_view()),
]
