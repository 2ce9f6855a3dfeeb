"""Management writes record the same events as every other path (outbox rows)."""

from tests.events.conftest import last_id, names
from tests.management.conftest import document_params
from tests.management.test_users_api import DIGEST


def test_each_write_records_its_events(mgmt, make_user):
    user = make_user(email="member@example.com")
    start = last_id()
    assert (
        mgmt("labels", {"user_uid": user.uid, "key": "phone", "value": "verified"}).status_code
        < 300
    )
    assert "model.label.created" in names(start)
    assert "model.user.updated" in names(start)  # level 1 → 2

    start = last_id()
    assert mgmt("users/update", {"uid": user.uid, "data": '{"nationality":"us"}'}).status_code < 300
    assert names(start) == ["model.user.updated"]

    start = last_id()
    assert mgmt("profiles", {"uid": user.uid, "first_name": "Grace"}).status_code < 300
    assert "model.profile.created" in names(start)

    start = last_id()
    assert mgmt("documents", document_params(user)).status_code < 300
    assert "model.document.created" in names(start)

    start = last_id()
    assert (
        mgmt("users/import", {"email": "old@example.com", "password_digest": DIGEST}).status_code
        < 300
    )
    assert names(start)[:1] == ["model.user.created"]
    assert "model.profile.created" in names(start)

    start = last_id()
    assert (
        mgmt("users", {"email": "new@example.com", "password": "Fai5aesoLEcx-strong"}).status_code
        < 300
    )
    assert names(start) == ["model.user.created"]
