"""Settings for Barong-for-Django: the only module that reads the environment (``barong/env.py``).

Every value has the embedded development default (SQLite in a
data directory, a file cache, eager Celery, generated keys kept on disk).
``BARONG_ENV=production`` refuses to start without the real secrets.
"""

import base64
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from whitenoise.compress import Compressor

from barong.env import (
    dev_secret,
    env,
    env_bool,
    env_choice,
    env_int,
    env_json_object,
    env_list,
)
from barong.proxies import DEFAULT as TRUSTED_PROXIES_DEFAULT
from barong.proxies import trusted_proxies_parse
from barong.request_id import logging_config

BASE_DIR = Path(__file__).resolve().parent.parent


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

# ---------------------------------------------------------------- Database
DATABASE_URL = env("DATABASE_URL")
# Behind PgBouncer in transaction mode (docs/operations.md): no server-side cursors and no
# prepared statements, which live in one server session that the next transaction may not get.
DATABASE_PGBOUNCER = env_bool("DATABASE_PGBOUNCER", False)
# An optional streaming replica: the admin API's and back-office's reads go there while it
# answers and is at most DATABASE_REPLICA_MAX_LAG seconds behind (checked at most once per
# DATABASE_REPLICA_CHECK_INTERVAL seconds per process); otherwise they go to the primary.
DATABASE_REPLICA_URL = env("DATABASE_REPLICA_URL")
DATABASE_REPLICA_MAX_LAG = env_int("DATABASE_REPLICA_MAX_LAG", 5)
DATABASE_REPLICA_CHECK_INTERVAL = env_int("DATABASE_REPLICA_CHECK_INTERVAL_MS", 1000) / 1000
# A replica that failed to answer is not asked again for this many seconds.
DATABASE_REPLICA_RETRY = env_int("DATABASE_REPLICA_RETRY", 10)


def _database(url: str) -> dict:
    database = dj_database_url.parse(
        url, conn_max_age=env_int("DB_CONN_MAX_AGE", 60), conn_health_checks=True
    )
    if DATABASE_PGBOUNCER:
        database["DISABLE_SERVER_SIDE_CURSORS"] = True
        database.setdefault("OPTIONS", {})["prepare_threshold"] = None
    return database


if DATABASE_URL:
    DATABASES = {"default": _database(DATABASE_URL)}
    if DATABASE_REPLICA_URL:
        DATABASES["replica"] = _database(DATABASE_REPLICA_URL)
        DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": DATA_DIR / "db.sqlite3",
            "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE"},  # writers queue, not fail
        }
    }
    # A covering index's extra column (kyc's profiles by country) is a PostgreSQL
    # optimisation; SQLite builds the index without it, which is all it needs.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]

DATABASE_ROUTERS = ["barong.db.routers.ReplicaRouter"]
# Level resyncs (accounts/services/resync.py): users per batch, and after how long an unfinished
# job is taken for dead and resumed by the beat task.
BARONG_RESYNC_BATCH = env_int("BARONG_RESYNC_BATCH", 5000)
BARONG_RESYNC_STALL_SECONDS = env_int("BARONG_RESYNC_STALL_SECONDS", 300)
# Paginated totals are exact up to this many rows, PostgreSQL's estimate above it.
BARONG_EXACT_COUNT_LIMIT = env_int("BARONG_EXACT_COUNT_LIMIT", 1000)

# ---------------------------------------------------------------- Cache
REDIS_URL = env("REDIS_URL")
# Connect and reply timeouts: a paused or unreachable Redis fails the request at once
# (503, barong/api/failures.py) instead of holding a worker for the kernel's timeouts.
REDIS_TIMEOUT = env_int("BARONG_REDIS_TIMEOUT_MS", 500) / 1000
if REDIS_URL:
    CACHES = {
        "default": {
            # Django's backend, reusing its Redis clients (see barong/cache.py).
            "BACKEND": "barong.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env("BARONG_CACHE_PREFIX", "barong"),
            "OPTIONS": {
                "socket_connect_timeout": REDIS_TIMEOUT,
                "socket_timeout": REDIS_TIMEOUT,
            },
        }
    }
elif env("BARONG_CACHE") == "locmem":
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
else:
    # Survives restarts and is shared by every process on one machine, unlike locmem.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(DATA_DIR / "cache"),
            "OPTIONS": {"MAX_ENTRIES": 100_000},
        }
    }

# ---------------------------------------------------------------- Auth & sessions
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["accounts.backends.OperatorBackend"]
PASSWORD_HASHERS = [
    "accounts.hashers.BarongArgon2Hasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    # Digests imported from Barong (management API, import_barong_users); upgraded at login.
    "accounts.hashers.BarongBcryptHasher",
]

BARONG_SESSION_NAME = env("BARONG_SESSION_NAME", "_barong_session")
BARONG_SESSION_EXPIRE_TIME = env_int("BARONG_SESSION_EXPIRE_TIME", 1800)
# Absolute lifetime of a session from its login, however active (docs/operations.md).
BARONG_SESSION_MAX_LIFETIME = env_int("BARONG_SESSION_MAX_LIFETIME", 7 * 24 * 3600)
# Concurrent sessions of one user: a login past it ends the oldest.
BARONG_SESSIONS_PER_USER = env_int("BARONG_SESSIONS_PER_USER", 10)
SESSION_ENGINE = "accounts.session_store"  # one round trip per write; an outage is 503
SESSION_COOKIE_NAME = BARONG_SESSION_NAME
SESSION_COOKIE_AGE = 24 * 3600  # Barong's store lifetime, refreshed on every write
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = env_bool("BARONG_COOKIE_SECURE", True)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_SAVE_EVERY_REQUEST = False
LOGIN_URL = "/admin/login/"

# ---------------------------------------------------------------- DRF
REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "barong.api.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    # Used by barong.api.views.ResourceViewSet (the resource and admin APIs); the public
    # identity views set none.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.BearerJWTAuthentication",
        "accounts.authentication.SessionCookieAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["permissions.api.RolePermission"],
    "UNAUTHENTICATED_USER": None,
    "EXCEPTION_HANDLER": "barong.api.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "barong.api.schema.BarongAutoSchema",
    "DEFAULT_FILTER_BACKENDS": [],
    # No OPTIONS self-description: Barong answers 405, and the schema documents the API.
    "DEFAULT_METADATA_CLASS": None,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Barong",
    "DESCRIPTION": "Identity, KYC and authorization server (Barong 2.4 API).",
    "VERSION": "2.4.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_AUTHENTICATION": [],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Shared error statuses, {} bodies and the CSRF/API-key headers; the gateway endpoint.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "barong.api.schema_hooks.complete_responses",
        "permissions.openapi.document_authz",
    ],
    "SCHEMA_PATH_PREFIX": r"/api/v2/(barong/)?",
    "COMPONENT_SPLIT_REQUEST": True,
    # Labels and restrictions both have a "scope" choice: name each set after its model.
    "ENUM_NAME_OVERRIDES": {
        "LabelScopeEnum": "accounts.models.Label.Scope",
        "RestrictionScopeEnum": "permissions.models.Restriction.Scope",
    },
}

# ---------------------------------------------------------------- JWT
# PEM or base64 PEM; development generates one key once and keeps it in DATA_DIR.
JWT_PRIVATE_KEY = env("JWT_PRIVATE_KEY")
JWT_PREVIOUS_PUBLIC_KEY = env("JWT_PREVIOUS_PUBLIC_KEY")
JWT_PRIVATE_KEY_FILE = DATA_DIR / "jwt_private.pem"
JWT_ISSUER = env("JWT_ISSUER", "barong")
JWT_AUDIENCE = env_list("JWT_AUDIENCE", "peatio,barong")
# Seconds of clock skew allowed on a verified token's iat, nbf and exp.
JWT_LEEWAY = env_int("JWT_LEEWAY", 30)
BARONG_JWT_EXPIRE_TIME = env_int("BARONG_JWT_EXPIRE_TIME", 3600)

# ---------------------------------------------------------------- Secrets at rest
BARONG_ENCRYPTION_KEY = env("BARONG_ENCRYPTION_KEY") or dev_secret(
    DATA_DIR, "encryption_key", lambda: base64.b64encode(secrets.token_bytes(32)).decode()
)
# During a rotation: the keys being replaced, comma-separated; they only decrypt.
BARONG_ENCRYPTION_KEYS_PREVIOUS = env_list("BARONG_ENCRYPTION_KEYS_PREVIOUS", "")

# ---------------------------------------------------------------- Celery
# In-process without Redis; the host name only keeps kombu from warning on every task.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", REDIS_URL or "memory://localhost/")
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_DEFAULT_QUEUE = "barong"
# A worker that dies mid-task leaves its message to be delivered again: acknowledged only
# after the task ran, rejected (requeued) when the worker is lost, and back in the queue
# after the visibility timeout (Redis' default is an hour). Tasks are idempotent.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A publish to a paused broker fails fast too (kombu applies the socket timeouts to
# synchronous commands; the worker's BRPOP runs on its event loop, which they do not cut).
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 300),
    "socket_connect_timeout": REDIS_TIMEOUT,
    "socket_timeout": REDIS_TIMEOUT,
}
# Redis Sentinel: CELERY_BROKER_URL=sentinel://host:26379;sentinel://host2:26379 and the
# monitored master's name here (docs/operations.md, "Redis: Sentinel behind HAProxy").
CELERY_BROKER_MASTER_NAME = env("CELERY_BROKER_MASTER_NAME")
if CELERY_BROKER_MASTER_NAME:
    CELERY_BROKER_TRANSPORT_OPTIONS["master_name"] = CELERY_BROKER_MASTER_NAME
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE_FILENAME = env(
    "CELERY_BEAT_SCHEDULE_FILENAME", str(DATA_DIR / "celerybeat-schedule")
)

# ---------------------------------------------------------------- Outbox and Event API
# Events are always recorded; they are published only when this AMQP URL is set.
BARONG_EVENT_API_URL = env("BARONG_EVENT_API_URL")
BARONG_EVENT_API_CONNECT_TIMEOUT = env_int("BARONG_EVENT_API_CONNECT_TIMEOUT", 5)
BARONG_OUTBOX_SWEEP_INTERVAL = env_int("BARONG_OUTBOX_SWEEP_INTERVAL", 5)  # seconds
BARONG_OUTBOX_BATCH = env_int("BARONG_OUTBOX_BATCH", 200)
BARONG_OUTBOX_RETRY_BASE = env_int("BARONG_OUTBOX_RETRY_BASE", 5)  # seconds, doubled per attempt
BARONG_OUTBOX_RETRY_MAX = env_int("BARONG_OUTBOX_RETRY_MAX", 300)
BARONG_OUTBOX_RETENTION_DAYS = env_int("BARONG_OUTBOX_RETENTION_DAYS", 7)
# The activity log's retention (activities/retention.py): 0 keeps every row, as Barong does.
BARONG_ACTIVITY_RETENTION_DAYS = env_int("BARONG_ACTIVITY_RETENTION_DAYS", 0)
BARONG_ACTIVITY_RETENTION_BATCH = max(env_int("BARONG_ACTIVITY_RETENTION_BATCH", 5000), 1)
BARONG_ACTIVITY_RETENTION_PAUSE_MS = env_int("BARONG_ACTIVITY_RETENTION_PAUSE_MS", 20)
# Personal data of deleted accounts is erased this many days after deletion (privacy app).
BARONG_ERASURE_DELAY_DAYS = env_int("BARONG_ERASURE_DELAY_DAYS", 30)
CELERY_BEAT_SCHEDULE = {
    "outbox-relay": {
        "task": "events.tasks.outbox_relay",
        "schedule": float(max(BARONG_OUTBOX_SWEEP_INTERVAL, 1)),
        "options": {"expires": float(max(BARONG_OUTBOX_SWEEP_INTERVAL, 1))},
    },
    "outbox-prune": {"task": "events.tasks.outbox_prune", "schedule": 3600.0},
    # Idempotent too: the metrics roll-up, and resuming resync jobs a dead worker left.
    "metrics-rollup": {"task": "activities.metrics_rollup", "schedule": 3600.0},
    "activities-prune": {"task": "activities.activities_prune", "schedule": 3600.0},
    "resync-resume": {"task": "accounts.resync_resume", "schedule": 300.0},
    "privacy-erase-deleted-users": {
        "task": "privacy.tasks.users_erase_due_task",
        "schedule": 3600.0,
    },
    "confirmations-prune": {
        "task": "management.tasks.confirmations_prune_task",
        "schedule": 3600.0,
    },
}

# ---------------------------------------------------------------- Email
EMAIL_BACKEND = env(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if not PRODUCTION
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_FILE_PATH = env("EMAIL_FILE_PATH", str(DATA_DIR / "mail"))
EMAIL_HOST = env("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 1025)
EMAIL_HOST_USER = env("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
BARONG_SENDER_EMAIL = env("BARONG_SENDER_EMAIL", "noreply@barong.io")
BARONG_SENDER_NAME = env("BARONG_SENDER_NAME", "Barong")
DEFAULT_FROM_EMAIL = f"{BARONG_SENDER_NAME} <{BARONG_SENDER_EMAIL}>"

# ---------------------------------------------------------------- Storage (KYC files)
BARONG_STORAGE_PROVIDER = env("BARONG_STORAGE_PROVIDER", "local").lower()
BARONG_UPLOAD_AUTH_URL_EXPIRATION = env_int("BARONG_UPLOAD_AUTH_URL_EXPIRATION", 1)  # minutes
MEDIA_ROOT = Path(env("BARONG_UPLOAD_ROOT", str(DATA_DIR / "uploads")))  # never served
if BARONG_STORAGE_PROVIDER in ("aws", "s3"):
    _default_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env("BARONG_STORAGE_BUCKET_NAME"),
            "access_key": env("BARONG_STORAGE_ACCESS_KEY"),
            "secret_key": env("BARONG_STORAGE_SECRET_KEY"),
            "endpoint_url": env("BARONG_STORAGE_ENDPOINT") or None,
            "region_name": env("BARONG_STORAGE_REGION") or None,
            "default_acl": "private",
            "querystring_auth": True,
            "querystring_expire": 60 * BARONG_UPLOAD_AUTH_URL_EXPIRATION,
            "addressing_style": "path" if env_bool("BARONG_STORAGE_PATHSTYLE", False) else None,
        },
    }
else:
    _default_storage = {
        # Private disk; url() is a signed, expiring link to kyc.storage.document_file.
        "BACKEND": "kyc.storage.PrivateFileStorage",
        "OPTIONS": {"location": MEDIA_ROOT, "base_url": "/api/v2/resource/documents/file/"},
    }
STORAGES = {
    "default": _default_storage,
    # collectstatic (make run, make serve) writes hashed, compressed copies; pages name the
    # hashed files, which WhiteNoise serves with a far-future cache lifetime.
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# Source maps are for a developer's tools only: collected, never compressed (half the time
# collectstatic takes).
WHITENOISE_SKIP_COMPRESS_EXTENSIONS = (*Compressor.SKIP_COMPRESS_EXTENSIONS, "map")
FILE_UPLOAD_PERMISSIONS = 0o600
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 200

# ---------------------------------------------------------------- Barong
BARONG_APP_NAME = env("BARONG_APP_NAME", "Barong")
# Where e-mail links point (ops/pages.py answers them). Development: this server itself,
# as `make run` serves it (it passes its PORT); a value with a scheme is used as it is,
# one without gets https://.
BARONG_DOMAIN = env("BARONG_DOMAIN", "openware.com" if PRODUCTION else "http://127.0.0.1:8000")
BARONG_UID_PREFIX = env("BARONG_UID_PREFIX", "ID").upper()
if not (2 <= len(BARONG_UID_PREFIX) <= 6 and BARONG_UID_PREFIX.isalpha()):
    raise ImproperlyConfigured("BARONG_UID_PREFIX must be 2 to 6 letters")
BARONG_DEFAULT_LANGUAGE = env("BARONG_DEFAULT_LANGUAGE", "en").lower()
BARONG_REQUIRED_DOCS_EXPIRE = env_bool("BARONG_REQUIRED_DOCS_EXPIRE", True)
BARONG_DOC_NUM_LIMIT = env_int("BARONG_DOC_NUM_LIMIT", 10)
BARONG_DOCUMENT_TYPES = env_list(
    "BARONG_DOCUMENT_TYPES",
    "Passport,Identity card,Driver license,Utility Bill,Residental,Institutional",
)
BARONG_UPLOAD_SIZE_MIN_RANGE = env_int("BARONG_UPLOAD_SIZE_MIN_RANGE", 1)  # bytes, as Barong
BARONG_UPLOAD_SIZE_MAX_RANGE = env_int("BARONG_UPLOAD_SIZE_MAX_RANGE", 10)  # megabytes
BARONG_UPLOAD_EXTENSION_WHITELIST = [
    ext.lower() for ext in env_list("BARONG_UPLOAD_EXTENSION_WHITELIST", "jpg,jpeg,png,pdf")
]
BARONG_USER_STORAGE_TITLES = env_list("BARONG_USER_STORAGE_TITLES", "personal")
BARONG_CSRF_PROTECTION = env_bool("BARONG_CSRF_PROTECTION", True)
BARONG_APIKEY_NONCE_LIFETIME = env_int("BARONG_APIKEY_NONCE_LIFETIME", 5000)
# What each API-key scope lets a key do: "VERB path-prefix" patterns matched against the
# gateway path authz checks (verb ALL: any; prefix "*": any path). A key with scopes may
# do only what one of them allows (docs/operations.md); a JSON object overrides it.
BARONG_API_KEY_SCOPES = env_json_object(
    "BARONG_API_KEY_SCOPES",
    {
        "read": ["GET *", "HEAD *"],
        "trade": ["ALL api/v2/peatio/market/orders"],
        "withdraw": [
            "ALL api/v2/peatio/account/withdraws",
            "ALL api/v2/peatio/account/beneficiaries",
            "ALL api/v2/peatio/account/internal_transfers",
        ],
    },
)
# Hours that rules marked security_lock refuse a user after 2FA was switched off, the
# password changed or reset, or a recovery code used; 0 switches the lock off.
BARONG_SECURITY_LOCK_HOURS = env_int("BARONG_SECURITY_LOCK_HOURS", 24)
# Which gateway's client-address header is believed: Barong's two values, "cloudflare"
# (X-Forwarded-For only) and "akamai" (also True-Client-IP); anything else stops start-up.
BARONG_GATEWAY = env_choice("BARONG_GATEWAY", "cloudflare", ("cloudflare", "akamai"))
# The peers whose X-Forwarded-For (and, with BARONG_GATEWAY=akamai, True-Client-IP) is
# believed: addresses, CIDR networks, "private" (the default: loopback and private
# ranges), "cloudflare" (its published ranges), "none" (barong/proxies.py).
try:
    BARONG_TRUSTED_PROXIES = trusted_proxies_parse(
        env("BARONG_TRUSTED_PROXIES").strip() or TRUSTED_PROXIES_DEFAULT
    )
except ValueError as exc:
    raise ImproperlyConfigured(f"BARONG_TRUSTED_PROXIES: {exc}") from None
BARONG_PASSWORD_REGEXP = env("BARONG_PASSWORD_REGEXP")
BARONG_PASSWORD_MIN_ENTROPY = env_int("BARONG_PASSWORD_MIN_ENTROPY", 14)
BARONG_PASSWORD_USE_DICTIONARY = env_bool("BARONG_PASSWORD_USE_DICTIONARY", True)
# The password rules, in Barong's order of checks; each refusal's code is the API's error key
# (accounts/passwords.py). The API, the back-office forms and changepassword all use them.
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "accounts.passwords.LengthValidator"},
    {"NAME": "accounts.passwords.PatternValidator"},
    {"NAME": "accounts.passwords.CommonListValidator"},
    {"NAME": "accounts.passwords.EntropyValidator"},
]
BARONG_CAPTCHA = env("BARONG_CAPTCHA", "none").lower()
if BARONG_CAPTCHA not in ("none", "recaptcha", "geetest"):
    raise ImproperlyConfigured("BARONG_CAPTCHA must be none, recaptcha or geetest")
BARONG_CAPTCHA_PROTECTED_ENDPOINTS = env_list(
    "BARONG_CAPTCHA_PROTECTED_ENDPOINTS",
    "user_create,session_create,password_reset,email_confirmation",
)
BARONG_RECAPTCHA_SITE_KEY = env("BARONG_RECAPTCHA_SITE_KEY")
BARONG_RECAPTCHA_SECRET_KEY = env("BARONG_RECAPTCHA_SECRET_KEY")
BARONG_RECAPTCHA_VERIFY_URL = env(
    "BARONG_RECAPTCHA_VERIFY_URL", "https://www.google.com/recaptcha/api/siteverify"
)
BARONG_GEETEST_ID = env("BARONG_GEETEST_ID")
BARONG_GEETEST_KEY = env("BARONG_GEETEST_KEY")
BARONG_GEETEST_API_URL = env("BARONG_GEETEST_API_URL", "https://api.geetest.com")
BARONG_CAPTCHA_TIMEOUT = env_int("BARONG_CAPTCHA_TIMEOUT", 5)
BARONG_PHONE_VERIFICATION = env("BARONG_PHONE_VERIFICATION", "mock").lower()
BARONG_TWILIO_PHONE_NUMBER = env("BARONG_TWILIO_PHONE_NUMBER", "+15005550000")
BARONG_TWILIO_ACCOUNT_SID = env("BARONG_TWILIO_ACCOUNT_SID")
BARONG_TWILIO_AUTH_TOKEN = env("BARONG_TWILIO_AUTH_TOKEN")
BARONG_TWILIO_SERVICE_SID = env("BARONG_TWILIO_SERVICE_SID")
BARONG_TWILIO_API_URL = env("BARONG_TWILIO_API_URL", "https://api.twilio.com")
BARONG_TWILIO_VERIFY_URL = env("BARONG_TWILIO_VERIFY_URL", "https://verify.twilio.com")
BARONG_SMS_CONTENT_TEMPLATE = env(
    "BARONG_SMS_CONTENT_TEMPLATE", "Your verification code for Barong: {{code}}"
)
BARONG_ACTIVATION_REQUIREMENTS = {"email": "verified"}
BARONG_STATE_TRIGGERS = {
    "banned": ["ban", "fraud"],
    "deleted": ["delete"],
    "locked": ["suspicious", "lock"],
}
# Keys users may never set on their own labels: they drive state or belong to operators.
BARONG_RESERVED_LABEL_KEYS = ["ban", "fraud", "delete", "lock", "suspicious"]
BARONG_AUTHZ_RULES_FILE = env(
    "BARONG_AUTHZ_RULES_FILE", str(BASE_DIR / "permissions" / "seeds" / "authz_rules.yml")
)
BARONG_SEED_LEVELS_FILE = str(BASE_DIR / "accounts" / "seeds" / "levels.yml")
BARONG_SEED_PERMISSIONS_FILE = str(BASE_DIR / "permissions" / "seeds" / "permissions.yml")
BARONG_GIT_TAG = env("BARONG_GIT_TAG", "2.4.0")
BARONG_GIT_SHA = env("BARONG_GIT_SHA", "")
BARONG_BUILD_DATE = env("BARONG_BUILD_DATE", "")

# GET /metrics needs "Authorization: Bearer <token>" when set (docs/operations.md).
BARONG_METRICS_TOKEN = env("BARONG_METRICS_TOKEN")

# Passkeys (WebAuthn): the relying party is the site the front end is served from.
BARONG_WEBAUTHN_RP_ID = env("BARONG_WEBAUTHN_RP_ID", "localhost")
BARONG_WEBAUTHN_RP_NAME = env("BARONG_WEBAUTHN_RP_NAME", BARONG_APP_NAME)
BARONG_WEBAUTHN_ORIGINS = [
    origin.strip()
    for origin in env("BARONG_WEBAUTHN_ORIGIN", "http://localhost:8000").split(",")
    if origin.strip()
]
BARONG_WEBAUTHN_CHALLENGE_TTL = env_int("BARONG_WEBAUTHN_CHALLENGE_TTL", 300)

# Rate limits: "<count>/<seconds>", counted in the cache (Redis in production).
BARONG_RATE_LIMITS = env_bool("BARONG_RATE_LIMITS", True)
BARONG_RATE_LIMIT_RULES = {
    "login_ip": env("BARONG_RATE_LOGIN_IP", "30/300"),
    # Failed logins only (docs/operations.md): per account and address, so an attacker
    # locks out nobody but their own address, and a looser per-account ceiling against
    # guessing from many addresses (NIST SP 800-63B: at most 100 consecutive failures).
    "login_account_ip": env("BARONG_RATE_LOGIN_ACCOUNT_IP", "10/900"),
    "login_account": env("BARONG_RATE_LOGIN_ACCOUNT", "100/3600"),
    "signup_ip": env("BARONG_RATE_SIGNUP_IP", "20/3600"),
    "email_code_ip": env("BARONG_RATE_EMAIL_CODE_IP", "20/3600"),
    "email_code_account": env("BARONG_RATE_EMAIL_CODE_ACCOUNT", "5/3600"),
    "otp_account": env("BARONG_RATE_OTP_ACCOUNT", "10/300"),
    "password_account": env("BARONG_RATE_PASSWORD_ACCOUNT", "10/300"),
    "phone_code_account": env("BARONG_RATE_PHONE_CODE_ACCOUNT", "5/600"),
    "phone_verify_account": env("BARONG_RATE_PHONE_VERIFY_ACCOUNT", "10/600"),
    "sessions_account": env("BARONG_RATE_SESSIONS_ACCOUNT", "60/60"),
    "export_account": env("BARONG_RATE_EXPORT_ACCOUNT", "5/3600"),
    "recovery_code_account": env("BARONG_RATE_RECOVERY_CODE_ACCOUNT", "5/300"),
    "webauthn_account": env("BARONG_RATE_WEBAUTHN_ACCOUNT", "20/300"),
    # Reads and removals of the own passkeys and recovery codes (docs/operations.md).
    "webauthn_read_account": env("BARONG_RATE_WEBAUTHN_READ_ACCOUNT", "60/60"),
    "webauthn_delete_account": env("BARONG_RATE_WEBAUTHN_DELETE_ACCOUNT", "10/60"),
    "recovery_code_count_account": env("BARONG_RATE_RECOVERY_CODE_COUNT_ACCOUNT", "60/60"),
    # PUT /resource/users/me: a language switch now and then; each change is an activity row.
    "data_account": env("BARONG_RATE_DATA_ACCOUNT", "30/60"),
}

# ---------------------------------------------------------------- Logging
# LOG_FORMAT=json: one JSON object per line; both formats carry the request id.
LOG_FORMAT = env("LOG_FORMAT", "plain").lower()
if LOG_FORMAT not in ("plain", "json"):
    raise ImproperlyConfigured(f"LOG_FORMAT must be plain or json, not {LOG_FORMAT!r}")
LOGGING = logging_config(LOG_FORMAT, env("LOG_LEVEL", "INFO"))

# Management API (server-to-server, multisig JWS): a file in Barong's management_api.yml
# format. Unset, missing or empty: every management call answers 401.
BARONG_MANAGEMENT_API_CONFIG = env("BARONG_MANAGEMENT_API_CONFIG")
# A management body carries a base64 document (4/3 of its size) inside a JWS.
BARONG_MANAGEMENT_MAX_BODY = env_int(
    "BARONG_MANAGEMENT_MAX_BODY", BARONG_UPLOAD_SIZE_MAX_RANGE * 1024 * 1024 * 4 // 3 + 65536
)
# Clock skew allowed on exp/nbf/iat when the config file's ``jwt`` options set no leeway.
BARONG_MANAGEMENT_LEEWAY = env_int("BARONG_MANAGEMENT_LEEWAY", 30)
# How far ahead a management call's exp may be, in seconds (plus the leeway). Barong's
# callers sign for 60 s (applogic, Barong's own clients); used tokens are remembered
# this long, so it also bounds the replay memory in Redis.
BARONG_MANAGEMENT_MAX_LIFETIME = env_int("BARONG_MANAGEMENT_MAX_LIFETIME", 300)
# The RSA key of otp/sign's "barong" signature (PEM or base64 PEM), kept apart from the JWT
# key so that nothing it signs can pass as a session token (management/keys.py).
# Development generates one once into DATA_DIR; production without it signs with the JWT
# key, as Barong 2.4 did, and `manage.py check --deploy` warns.
BARONG_MANAGEMENT_SIGNING_KEY = env("BARONG_MANAGEMENT_SIGNING_KEY")
BARONG_MANAGEMENT_SIGNING_KEY_FILE = DATA_DIR / "management_signing.pem"

# Confirmations bound to an operation (management/confirmations.py): how long the user has
# to confirm (and the signed confirmation stays valid), how many wrong codes or assertions
# void one, and the origins the confirmation page may send the browser back to (the
# WebAuthn origins by default; anything else is refused, never followed).
BARONG_CONFIRMATION_TTL = env_int("BARONG_CONFIRMATION_TTL", 300)
BARONG_CONFIRMATION_MAX_ATTEMPTS = env_int("BARONG_CONFIRMATION_MAX_ATTEMPTS", 3)
# Rows are deleted this many days after they expire (management/tasks.py, hourly).
BARONG_CONFIRMATION_RETENTION_DAYS = env_int("BARONG_CONFIRMATION_RETENTION_DAYS", 30)
BARONG_CONFIRMATION_RETURN_ORIGINS = [
    origin.strip().rstrip("/")
    for origin in env(
        "BARONG_CONFIRMATION_RETURN_ORIGINS", ",".join(BARONG_WEBAUTHN_ORIGINS)
    ).split(",")
    if origin.strip()
]

# The model whose rows name the roles that exist (accounts.selectors.role_exists): it
# lives in an app above accounts, so it is named here, as AUTH_USER_MODEL names the user.
BARONG_ROLE_MODEL = "permissions.Permission"
