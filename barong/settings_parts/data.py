"""Where data lives: the database (primary, optional replica, PgBouncer) and the cache (Redis
or a file cache in development)."""

import dj_database_url

from barong.env import env, env_bool, env_int
from barong.settings_parts.core import DATA_DIR

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
