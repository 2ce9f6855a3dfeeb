"""Work outside the request: Celery and its beat schedule, the outbox and the Event API,
retention, e-mail, and where KYC files are stored."""

from pathlib import Path

from whitenoise.compress import Compressor

from barong.env import env, env_bool, env_int
from barong.settings_parts.core import DATA_DIR, PRODUCTION
from barong.settings_parts.data import REDIS_TIMEOUT, REDIS_URL

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
