"""Core settings: the environment (development or production), the data directory, the apps,
middleware, templates and static files. Every other part builds on these."""

import secrets
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from barong.env import dev_secret, env, env_bool, env_list
from barong.request_id import logging_config

BASE_DIR = Path(__file__).resolve().parent.parent.parent

# ---------------------------------------------------------------- Core
BARONG_ENV = env("BARONG_ENV", "development").strip().lower()
BARONG_ENVS = ("development", "production")
if BARONG_ENV not in BARONG_ENVS:  # a typo (prod, Production ) must not run in development mode
    raise ImproperlyConfigured(
        f"BARONG_ENV must be development or production, not {env('BARONG_ENV')!r}"
    )
PRODUCTION = BARONG_ENV == "production"
DATA_DIR = Path(env("BARONG_DATA_DIR", str(BASE_DIR / "var")))

if PRODUCTION:
    _missing = [
        name
        for name in (
            "DJANGO_SECRET_KEY",
            "DATABASE_URL",
            "JWT_PRIVATE_KEY",
            "BARONG_ENCRYPTION_KEY",
        )
        if not env(name)
    ]
    if _missing:
        raise ImproperlyConfigured(
            "BARONG_ENV=production needs these environment variables: " + ", ".join(_missing)
        )
else:
    DATA_DIR.mkdir(parents=True, exist_ok=True)


SECRET_KEY = env("DJANGO_SECRET_KEY") or dev_secret(
    DATA_DIR, "secret_key", lambda: secrets.token_urlsafe(50)
)
DEBUG = env_bool("DJANGO_DEBUG", False)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "*" if not PRODUCTION else "localhost")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "barong.apps.BarongAdminConfig",  # django.contrib.admin with the back-office site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI and Redoc as static files (no CDN)
    "django_otp",
    "accounts",
    "activities",
    "events",
    "permissions",
    "kyc",
    "apikeys",
    "management",
    "privacy",
    "ops",
]

MIDDLEWARE = [
    # X-Request-ID on every answer, oversized API bodies refused (barong/api/middleware.py),
    # then request metrics (ops/metrics.py): both see every answer, the authz calls' too.
    "barong.api.middleware.RequestIdMiddleware",
    "ops.metrics.MetricsMiddleware",
    # The gateway's /api/v2/auth calls stop here, ahead of the stack (permissions/middleware.py).
    "permissions.middleware.AuthzMiddleware",
    # Refused operator attempts are written after the request's transactions
    # (activities/middleware.py): the refusal rolls back the rest.
    "activities.middleware.DeferredActivitiesMiddleware",
    # GET/HEAD of the admin API and back-office may read a replica (barong/db/routers.py).
    "barong.db.routers.ReplicaReadsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # /static/ from the collected files (hashed names, gzip, cached a year): gunicorn alone
    # serves the back-office, the API docs and the e-mail link pages (docs/operations.md).
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "barong.urls"
# The back-office site (barong/admin_site.py) uses these app forms.
BARONG_ADMIN_LOGIN_FORM = "accounts.admin_forms.OperatorLoginForm"
BARONG_ADMIN_PASSKEY_FORM = "accounts.admin_forms.OperatorPasskeyForm"
BARONG_ADMIN_PASSWORD_CHANGE_FORM = "accounts.admin_forms.OperatorPasswordChangeForm"  # noqa: S105
# Called with (request, user) once a back-office login has its session: the session cap.
BARONG_ADMIN_SESSION_OPENED = "accounts.sessions.backoffice_session_opened"
WSGI_APPLICATION = "barong.wsgi.application"
# Wraps the WSGI application: the gateway's /api/v2/auth calls skip Django's handler
# (permissions/wsgi.py). Empty: every request goes through Django.
BARONG_WSGI_FRONT = env("BARONG_WSGI_FRONT", "permissions.wsgi.AuthzFront")
# The front's fast path for steady-state calls (permissions/lean.py); off: the front
# answers every authz call through the full path.
BARONG_AUTHZ_FAST_PATH = env_bool("BARONG_AUTHZ_FAST_PATH", True)
APPEND_SLASH = False

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

STATIC_URL = "static/"
STATIC_ROOT = Path(env("DJANGO_STATIC_ROOT", str(DATA_DIR / "static")))

# ---------------------------------------------------------------- Logging
# LOG_FORMAT=json: one JSON object per line; both formats carry the request id.
LOG_FORMAT = env("LOG_FORMAT", "plain").lower()
if LOG_FORMAT not in ("plain", "json"):
    raise ImproperlyConfigured(f"LOG_FORMAT must be plain or json, not {LOG_FORMAT!r}")
LOGGING = logging_config(LOG_FORMAT, env("LOG_LEVEL", "INFO"))
