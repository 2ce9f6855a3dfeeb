"""A real Celery worker sends the confirmation e-mail; the token in it confirms over HTTP."""

import email
import os
import subprocess
import time
from http import HTTPStatus
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings as django_settings
from django.db import connection

from accounts.models import User
from tests.accounts.conftest import STRONG_PASSWORD, TOKEN_RE
from tests.brokers import celery_broker
from tests.events.processes import celery_worker_command

pytestmark = [
    pytest.mark.worker,
    pytest.mark.skipif(not django_settings.REDIS_URL, reason="needs REDIS_URL (broker)"),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="the worker process must reach the test database (PostgreSQL)",
    ),
]

WAIT_SECONDS = 60


def _test_database_url() -> str:
    """DATABASE_URL pointing at the database pytest-django created for this run."""
    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(parts._replace(path="/" + connection.settings_dict["NAME"]))


def _plain_bodies(directory: Path) -> list[str]:
    """Plain-text bodies of every message the file backend wrote (one log file per run)."""
    bodies = []
    for path in directory.glob("*.log"):
        for chunk in path.read_text(errors="replace").split("-" * 79):
            if not chunk.strip():
                continue
            message = email.message_from_string(chunk.strip())
            for part in message.walk():
                if part.get_content_type() == "text/plain":
                    bodies.append(part.get_payload(decode=True).decode(errors="replace"))
    return bodies


def _wait_for_token(directory: Path, worker: subprocess.Popen, log: Path) -> str:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        for body in _plain_bodies(directory):
            match = TOKEN_RE["confirmation"].search(body)
            if match:
                return match.group(1)
        if worker.poll() is not None:
            pytest.fail(f"the worker exited ({worker.returncode}):\n{log.read_text()[-4000:]}")
        time.sleep(0.5)
    pytest.fail(f"no confirmation e-mail within {WAIT_SECONDS}s:\n{log.read_text()[-4000:]}")
    return ""


@pytest.fixture
def real_broker(settings):
    """This process's tasks (the relay's wake-up after the sign-up) go to Redis for real."""
    settings.CELERY_TASK_ALWAYS_EAGER = False
    with celery_broker(settings.REDIS_URL):
        yield


def test_worker_sends_confirmation_email_that_confirms(
    transactional_db, api, settings, tmp_path, real_broker
):
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    log = tmp_path / "worker.log"
    env = {
        **os.environ,
        "DATABASE_URL": _test_database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_BROKER_URL": settings.REDIS_URL,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(mail_dir),
        # The worker mints the token into the cache namespace this test reads.
        "BARONG_CACHE_PREFIX": settings.CACHES["default"]["KEY_PREFIX"],
        "DJANGO_SETTINGS_MODULE": "barong.settings",
    }
    with log.open("w") as output:
        worker = subprocess.Popen(  # noqa: S603
            celery_worker_command(),
            cwd=django_settings.BASE_DIR,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        signup = api.post(
            "/api/v2/identity/users",
            {"email": "worker@example.com", "password": STRONG_PASSWORD},
            format="json",
        )
        assert signup.status_code == HTTPStatus.CREATED

        token = _wait_for_token(mail_dir, worker, log)
        api.cookies.clear()
        confirm = api.post(
            "/api/v2/identity/users/email/confirm_code", {"token": token}, format="json"
        )

        assert confirm.status_code == HTTPStatus.CREATED
        assert confirm.json()["state"] == "active"
        assert User.objects.get(email="worker@example.com").level == 1
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait(timeout=10)
