"""Settings for Barong-for-Django, read from the environment (``barong/env.py``).

Every value has the embedded development default (SQLite in a
data directory, a file cache, eager Celery, generated keys kept on disk).
``BARONG_ENV=production`` refuses to start without the real secrets.

The values live in ``barong/settings_parts/``, one module per concern, each importing what it
builds on from the others by name; this module gathers them.
"""

from barong.settings_parts.auth import *  # noqa: F403  users, sessions, DRF, JWT, secrets
from barong.settings_parts.barong import *  # noqa: F403  Barong's own options
from barong.settings_parts.core import *  # noqa: F403  environment, apps, middleware, logging
from barong.settings_parts.data import *  # noqa: F403  database and cache
from barong.settings_parts.workers import *  # noqa: F403  Celery, outbox, e-mail, storage
