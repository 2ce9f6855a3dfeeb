"""ops' routes: ``identity`` (health probes, under both API prefixes) and ``site`` (top level)."""

from django.urls import path

from ops import health, metrics, pages

identity: list = [
    path("health/alive", health.AliveView.as_view(), name="health-alive"),
    path("health/ready", health.ReadyView.as_view(), name="health-ready"),
]
resource: list = []
admin: list = []
site: list = [
    path("metrics", metrics.metrics_view, name="metrics"),
    path("accounts/confirmation", pages.confirmation_page, name="page-confirmation"),
    path("accounts/password_reset", pages.password_reset_page, name="page-password-reset"),
]
