"""One API tree under ``/api/v2/`` and again under ``/api/v2/barong/``."""

from django.contrib import admin as django_admin
from django.urls import include, path, re_path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerView,
)

import accounts.urls
import apikeys.urls
import kyc.urls
import management.urls
import ops.urls
import permissions.urls
import privacy.urls
from barong.api.views import route_not_found

APPS = [
    accounts.urls,
    kyc.urls,
    apikeys.urls,
    permissions.urls,
    privacy.urls,
    ops.urls,
    management.urls,
]

api_v2 = [
    *[route for app in APPS for route in app.identity],
    path("resource/", include([route for app in APPS for route in app.resource])),
    path("admin/", include([route for app in APPS for route in app.admin])),
    path("management/", include(management.urls.management)),
]

urlpatterns = [
    path("api/v2/schema/", SpectacularAPIView.as_view(), name="schema"),
    # Swagger UI and Redoc come from drf-spectacular-sidecar's static files: no CDN.
    path("api/v2/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    *accounts.urls.well_known,
    path(
        "api/v2/redoc/",
        SpectacularRedocView.as_view(
            url_name="schema", template_name="drf_spectacular/redoc_offline.html"
        ),
        name="redoc",
    ),
    *ops.urls.site,
    *management.urls.site,
    *permissions.urls.authz,
    path("api/v2/barong/", include(api_v2)),
    path("api/v2/", include(api_v2)),
    re_path(r"^api/v2(?:/.*)?$", route_not_found),
    path("admin/", django_admin.site.urls),
]

handler400 = "barong.api.views.bad_request"
handler404 = "barong.api.views.page_not_found"
handler500 = "barong.api.views.server_error"
