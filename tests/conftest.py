"""Shared fixtures: an API client, users made through the services, a fast hasher."""

import uuid

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from tests.factories import make_admin_user, make_user_with

BROWSER_UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36"


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
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
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
    }
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SESSION_COOKIE_SECURE = False
    from barong.celery import app

    app.conf.task_always_eager = True


@pytest.fixture
def seeded(db):
    """Barong's default levels and permissions, as ``make run`` seeds them."""
    call_command("seed_levels", verbosity=0)
    call_command("seed_permissions", verbosity=0)


@pytest.fixture
def api():
    """A client that looks like a browser (Barong flags unknown agents)."""
    return APIClient(HTTP_USER_AGENT=BROWSER_UA, REMOTE_ADDR="203.0.113.10")


@pytest.fixture
def make_user(seeded):
    return make_user_with


@pytest.fixture
def make_admin(seeded):
    return make_admin_user


def bearer_for(user) -> str:
    """A session JWT for ``user``, as the authz endpoint mints it for the gateway."""
    from barong import jwt as barong_jwt

    claims = {
        "uid": user.uid,
        "email": user.email,
        "role": user.role,
        "level": user.level,
        "state": user.state,
        "referral_id": None,
    }
    return barong_jwt.encode(claims, sub="session")


@pytest.fixture
def auth_api():
    """``auth_api(user)``: a browser-like client carrying ``user``'s Bearer JWT."""

    def build(user) -> APIClient:
        client = APIClient(HTTP_USER_AGENT=BROWSER_UA, REMOTE_ADDR="203.0.113.10")
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {bearer_for(user)}")
        return client

    return build
