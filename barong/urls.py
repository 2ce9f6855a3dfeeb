"""One API tree under ``/api/v2/`` and again under ``/api/v2/barong/``."""

from django.contrib import admin as django_admin
from django.urls import include, path, re_path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerView,
)

from barong.api.views import route_not_found

# Each app's urls.py lists its own routes, the API's under both prefixes
# (barong.api.routers.api_v2). They are named by string, as Django's include() takes them,
# so that barong imports no app; the order is the order in which they are tried.
APPS = ["accounts", "kyc", "apikeys", "permissions", "privacy", "ops", "management"]

urlpatterns = [
    path("api/v2/schema/", SpectacularAPIView.as_view(), name="schema"),
    # Swagger UI and Redoc come from drf-spectacular-sidecar's static files: no CDN.
    path("api/v2/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path(
        "api/v2/redoc/",
        SpectacularRedocView.as_view(
            url_name="schema", template_name="drf_spectacular/redoc_offline.html"
        ),
        name="redoc",
    ),
    *[path("", include(f"{app}.urls")) for app in APPS],
    re_path(r"^api/v2(?:/.*)?$", route_not_found),
    path("admin/", django_admin.site.urls),
]

handler400 = "barong.api.views.bad_request"
handler404 = "barong.api.views.page_not_found"
handler500 = "barong.api.views.server_error"
