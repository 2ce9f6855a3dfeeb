"""The optional read replica: which requests may read it, and what the router answers."""

import pytest
from django.db import transaction
from django.http import HttpResponse
from django.test import override_settings

from accounts.models import User
from barong.db.routers import (
    REPLICA,
    ReplicaReadsMiddleware,
    ReplicaRouter,
    replica_fresh,
    replica_reads,
    replica_request,
)

# Only the router's view of the settings changes; no connection to it is ever opened.
WITH_REPLICA = {
    "default": {},
    REPLICA: {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"},
}
pytestmark = pytest.mark.filterwarnings("ignore:Overriding setting DATABASES")


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("GET", "/api/v2/admin/users", True),
        ("GET", "/api/v2/barong/admin/activities", True),
        ("HEAD", "/admin/accounts/user/", True),
        ("POST", "/api/v2/admin/users/update", False),
        ("GET", "/api/v2/resource/users/me", False),
        ("GET", "/api/v2/auth/api/v2/admin/users", False),
        ("GET", "/api/v2/identity/ping", False),
    ],
)
def test_only_operator_reads_are_replica_requests(method, path, expected):
    assert replica_request(method, path) is expected


def test_the_router_sends_marked_reads_to_the_replica_only_when_configured(transactional_db):
    router = ReplicaRouter()
    assert router.db_for_read(User) is None
    with replica_reads():
        assert router.db_for_read(User) is None  # no replica configured
        with override_settings(DATABASES=WITH_REPLICA):
            assert router.db_for_read(User) == REPLICA
            assert router.db_for_write(User) is None
            with transaction.atomic():  # a read inside a write transaction stays primary
                assert router.db_for_read(User) is None
    with override_settings(DATABASES=WITH_REPLICA):
        assert router.db_for_read(User) is None
        assert router.allow_migrate(REPLICA, "accounts") is False
        assert router.allow_migrate("default", "accounts") is True


def test_the_middleware_marks_admin_reads(rf):
    router = ReplicaRouter()
    seen = []

    def view(request):
        seen.append(router.db_for_read(User))
        return HttpResponse()

    middleware = ReplicaReadsMiddleware(view)
    with override_settings(DATABASES=WITH_REPLICA):
        middleware(rf.get("/api/v2/admin/users"))
        middleware(rf.post("/api/v2/admin/users/update"))
        middleware(rf.get("/api/v2/resource/users/me"))
    assert seen == [REPLICA, None, None]


def test_a_read_that_failed_on_the_replica_is_served_again_on_the_primary(rf, monkeypatch):
    """The replica went away between two checks: the operator gets the primary's answer,
    and the replica is not read again until the retry delay is over."""
    router = ReplicaRouter()
    seen = []

    def view(request):
        where = router.db_for_read(User)
        seen.append(where)
        return HttpResponse(status=503 if where == REPLICA else 200)

    middleware = ReplicaReadsMiddleware(view)
    monkeypatch.setattr(replica_fresh, "due", float("-inf"))
    with override_settings(DATABASES=WITH_REPLICA):
        monkeypatch.setattr("barong.db.routers.connections", {REPLICA: _Closable()})
        first = middleware(rf.get("/api/v2/admin/users"))
        second = middleware(rf.get("/api/v2/admin/users"))
    assert (first.status_code, second.status_code) == (200, 200)
    assert seen == [REPLICA, None, None]
    replica_fresh.forget()


class _Closable:
    def close(self) -> None:
        """The replica's connection, dropped after a failed read."""
