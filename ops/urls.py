"""ops' routes: the health probes (under both API prefixes), metrics and the e-mail pages."""

from django.urls import path

from barong.api.routers import api_v2
from ops import health, metrics, pages

urlpatterns = [
    path("metrics", metrics.metrics_view, name="metrics"),
    path("accounts/confirmation", pages.confirmation_page, name="page-confirmation"),
    path("accounts/password_reset", pages.password_reset_page, name="page-password-reset"),
    *api_v2(
        identity=[
            path("health/alive", health.AliveView.as_view(), name="health-alive"),
            path("health/ready", health.ReadyView.as_view(), name="health-ready"),
        ]
    ),
]
