"""Shared fixtures: the test database seeded once, an API client, users made through the
services, a fast hasher."""

import contextlib
import functools
import json
import os
import random
import subprocess
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import transaction
from django.db.models.signals import post_migrate
from django.test import override_settings
from rest_framework.test import APIClient

from tests.factories import make_admin_user, make_user_with

# Modules that start processes or a browser: each takes seconds to tens of seconds.
SLOW_MARKERS = ("worker", "browser")


def pytest_configure(config) -> None:
    """WhiteNoise looks static files up when asked, rather than listing STATIC_ROOT each
    time a test client or the live server builds the middleware (warning when nothing was
    collected there). Set before any test starts: the live server builds it once."""
    from django.conf import settings

    settings.WHITENOISE_AUTOREFRESH = True


# Seconds each module took in a full run (setup, call and teardown of its tests), written by
# ``pytest --store-durations``: the order below runs the longest modules first.
DURATIONS = Path(__file__).with_name("durations.json")
_spent: Counter = Counter()


def pytest_addoption(parser) -> None:
    parser.addoption(
        "--store-durations",
        action="store_true",
        help="record the seconds of each module that ran in tests/durations.json (the order "
        "`make test` runs modules in)",
    )


def pytest_runtest_logreport(report) -> None:
    _spent[report.nodeid.split("::", 1)[0]] += report.duration


def pytest_sessionfinish(session) -> None:
    """The modules that ran replace their figures; modules whose file is gone drop out.
    Under xdist the controller sees every worker's reports; a worker writes nothing."""
    config = session.config
    if config.getoption("store_durations") and not hasattr(config, "workerinput"):
        recorded = json.loads(DURATIONS.read_text()) if DURATIONS.exists() else {}
        recorded.update({module: round(seconds, 1) for module, seconds in _spent.items()})
        root = Path(config.rootpath)
        spent = {m: s for m, s in sorted(recorded.items()) if (root / m).exists()}
        DURATIONS.write_text(json.dumps(spent, indent=1) + "\n")


def _module_seconds(items) -> dict:
    """Each module's expected seconds: as recorded, else its number of tests times the
    recorded seconds per test (a new module)."""
    recorded = json.loads(DURATIONS.read_text()) if DURATIONS.exists() else {}
    sizes = Counter(item.nodeid.split("::", 1)[0] for item in items)
    known = [module for module in sizes if module in recorded]
    per_test = sum(recorded[m] for m in known) / max(sum(sizes[m] for m in known), 1)
    return {module: recorded.get(module, count * per_test) for module, count in sizes.items()}


def pytest_collection_modifyitems(config, items) -> None:
    """Slow modules first, then the others longest first, each module's tests in their order.

    ``make test`` runs ``--dist loadfile --no-loadscope-reorder``: a worker takes one
    module at a time in this order. Longest first (tests/durations.json) leaves short
    modules for the end, so both workers finish at about the same time; xdist's own
    reorder (by number of tests) or an order by number of tests would leave a long
    module with few tests (an import of 1,000 users, a server started from scratch) for
    the end, where one worker runs it alone.
    """
    seed = os.environ.get("BARONG_TEST_ORDER_SEED")
    if seed:
        # Modules in an order drawn from the seed: which module follows which on the same
        # xdist worker changes from seed to seed, so a test that leaves something behind
        # for the next one shows up (tests/brokers.py tells the story of one that did).
        paths = sorted({item.path for item in items}, key=str)
        random.Random(seed).shuffle(paths)
        rank = {path: index for index, path in enumerate(paths)}
        items.sort(key=lambda item: rank[item.path])
        return
    seconds = _module_seconds(items)
    slow = {item.path for item in items if any(map(item.get_closest_marker, SLOW_MARKERS))}
    items.sort(
        key=lambda item: (
            item.path not in slow,
            -seconds[item.nodeid.split("::", 1)[0]],
            str(item.path),
        )
    )


ROOT = Path(__file__).resolve().parents[1]
BROWSER_UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36"


@contextlib.contextmanager
def serving(command: list[str], *, port: int, env: dict[str, str], tries: int, stderr=None):
    """``command`` started from the repository root to serve 127.0.0.1:``port``: the base
    URL once it answers health/alive (or after ``tries`` tenths of seconds: the test's own
    requests then fail, saying why); terminated when the block ends."""
    import requests

    server = subprocess.Popen(  # noqa: S603
        command,
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL if stderr is None else stderr,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(tries):
            try:
                requests.get(f"{base}/api/v2/health/alive", timeout=5)
                break
            except requests.RequestException:
                time.sleep(0.1)
        yield base
    finally:
        server.terminate()
        server.wait(20)


@pytest.fixture(autouse=True, scope="session")
def _password_strength_memo():
    """zxcvbn scores the same few test passwords thousands of times; remember its answers.

    ``password_entropy`` is a pure function of the password, so a cached answer is the
    answer: the rules (length, dictionary, entropy threshold) still run on every call.
    """
    from accounts import passwords

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            passwords,
            "password_entropy",
            functools.lru_cache(maxsize=4096)(passwords.password_entropy),
        )
        yield


@pytest.fixture(autouse=True)
def _no_broker_leak():
    """A test leaves the Celery app publishing where the suite configured it.

    A test that pointed the app at a broker of its own and stopped that broker would
    otherwise leave every later ``.delay()`` of this xdist worker (the relay's wake-up
    after each commit) going to a dead port (tests/brokers.py); the leaking test fails
    here, not a later test of the same worker that waits for an e-mail.
    """
    from django.conf import settings as django_settings

    from barong.celery import app
    from tests.brokers import celery_broker_leaks, celery_pools_close

    configured = django_settings.CELERY_BROKER_URL
    yield
    leaks = celery_broker_leaks(app, configured)
    if leaks:
        celery_pools_close(app)
        app.conf.broker_url = configured
        pytest.fail("the test left the Celery app pointing elsewhere: " + "; ".join(leaks))


@pytest.fixture(autouse=True)
def _fast_and_clean(settings, tmp_path):
    """MD5 hashing for speed, Celery eager, a cache namespace of its own, files in tmp.

    Each test gets a fresh key prefix (Redis in CI) or a fresh locmem cache, so parallel
    workers never see each other's sessions, rate-limit counters or version stamps.
    """
    namespace = f"test-{uuid.uuid4().hex}"
    if settings.REDIS_URL:
        settings.CACHES = {
            "default": {
                "BACKEND": "barong.cache.RedisCache",  # the production backend
                "LOCATION": settings.REDIS_URL,
                "KEY_PREFIX": namespace,
            }
        }
    else:
        settings.CACHES = {
            "default": {
                "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                "LOCATION": namespace,
            }
        }
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "kyc.storage.PrivateFileStorage",
            "OPTIONS": {"location": tmp_path / "media"},
        },
        # Pages name the static files as found in the apps, with no collectstatic run
        # first; the hashed files WhiteNoise serves are tested under gunicorn
        # (tests/ops/test_production_mode.py).
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SESSION_COOKIE_SECURE = False
    from barong.celery import app

    app.conf.task_always_eager = True


def _seed() -> None:
    """Barong's default levels and permissions, as ``make run`` seeds them.

    Run against a private locmem cache: the version stamps the seeds bump must not land
    in a shared cache (Redis in CI) outside any test's namespace.
    """
    with override_settings(
        CACHES={
            "default": {
                "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                "LOCATION": "test-seed",
            }
        }
    ):
        call_command("seed_levels", verbosity=0)
        call_command("seed_permissions", verbosity=0)


def _reseed_after_flush(**kwargs) -> None:
    """A transactional test (``transactional_db``, ``live_server``) ends with a flush that
    empties every table and then sends ``post_migrate``: put the seeds back for the next test."""
    _seed()


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """The test database, seeded once: every test sees the levels and permissions.

    Ordinary tests roll back around themselves, so the seeds stay; the flush that ends a
    transactional test is followed by a re-seed (``_reseed_after_flush``). Each test's
    fresh cache namespace (``_fast_and_clean``) makes the in-process rule tables reload
    from these rows on first use.
    """
    with django_db_blocker.unblock():
        _seed()
    post_migrate.connect(
        _reseed_after_flush,
        sender=apps.get_app_config("permissions"),
        dispatch_uid="tests.reseed_after_flush",
    )
    yield
    post_migrate.disconnect(
        sender=apps.get_app_config("permissions"), dispatch_uid="tests.reseed_after_flush"
    )


def rows_once(django_db_blocker, build):
    """Generator body of a module-scoped fixture: ``build()`` writes rows once for a module.

    The rows live in a transaction opened around the whole module and rolled back after
    it; each test's own transaction nests inside it as a savepoint, so a test may change
    them and the next test still finds them as built. Costly fixtures are built once per
    test database, not once per test. ``build`` runs with the
    settings ``_fast_and_clean`` gives a test (private cache, fast hasher, eager Celery).
    Only for modules whose tests all use ``db`` (never ``transactional_db``/``live_server``:
    their flush would empty the rows).
    """
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer._from_testcase = True  # nested like a TestCase's class atomic
        outer.__enter__()
        try:
            with override_settings(
                CACHES={
                    "default": {
                        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                        "LOCATION": f"test-{uuid.uuid4().hex}",
                    }
                },
                PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
                CELERY_TASK_ALWAYS_EAGER=True,
                EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
            ):
                built = build()
        except BaseException:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
            raise
    try:
        yield built
    finally:
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture
def api():
    """A client that looks like a browser (Barong flags unknown agents)."""
    return APIClient(HTTP_USER_AGENT=BROWSER_UA, REMOTE_ADDR="203.0.113.10")


@pytest.fixture
def make_user(db):
    return make_user_with


@pytest.fixture
def make_admin(db):
    return make_admin_user


@pytest.fixture
def superadmin(make_admin):
    """An active operator with the ``superadmin`` role (a ``User``)."""
    return make_admin()


def session_open_for(user) -> str:
    """A live session of ``user``, opened as a login opens it; returns its key."""
    from django.test import RequestFactory

    from accounts.session_store import SessionStore
    from accounts.sessions import session_open

    request = RequestFactory().get("/", HTTP_USER_AGENT=BROWSER_UA, REMOTE_ADDR="203.0.113.10")
    request.session = SessionStore()
    session_open(request, user)
    request.session.save()
    return request.session.session_key


def bearer_for(user, *, session_key: str | None = None) -> str:
    """A session JWT for ``user`` as the authz endpoint mints it for the gateway: bound to
    a live session of theirs (``session_key``, else a new one)."""
    from permissions.authz import token_for

    key = session_key or session_open_for(user)
    snapshot = {
        "uid": user.uid,
        "email": user.email,
        "role": user.role,
        "level": user.level,
        "state": user.state,
        "referral_id": None,
    }
    return token_for(f"session:{key}", snapshot)


@pytest.fixture
def auth_api():
    """``auth_api(user)``: a browser-like client carrying ``user``'s Bearer JWT."""

    def build(user) -> APIClient:
        client = APIClient(HTTP_USER_AGENT=BROWSER_UA, REMOTE_ADDR="203.0.113.10")
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {bearer_for(user)}")
        return client

    return build
