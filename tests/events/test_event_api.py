"""The Event API on a real RabbitMQ: a consumer bound to both exchanges verifies every event."""

import base64
import json
import os
import uuid
from datetime import timedelta
from http import HTTPStatus

import jwt
import pytest
from django.utils import timezone
from kombu import Connection, Exchange, Queue

from accounts.models import User
from events.models import OutboxEvent
from tests.accounts.conftest import STRONG_PASSWORD, CommittingAPIClient, last_token
from tests.conftest import BROWSER_UA, bearer_for
from tests.kyc.conftest import png

RABBITMQ_URL = os.environ.get("RABBITMQ_URL", "")

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not RABBITMQ_URL, reason="needs RABBITMQ_URL (a RabbitMQ broker)"),
]

ROUTES = {
    "barong.events.system": [
        "user.email.confirmation.token",
        "user.email.confirmed",
        "user.password.reset.token",
        "user.password.reset",
        "user.password.change",
        "user.account.deleted",
        "session.create",
        "document.verified",
        "document.rejected",
    ],
    "barong.events.model": [
        f"{model}.{action}"
        for model in ("user", "profile", "label", "document", "data_storage")
        for action in ("created", "updated")
    ],
}


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@pytest.fixture
def consumer(settings):
    """A queue bound to every routing key of both exchanges; the Event API switched on."""
    settings.BARONG_EVENT_API_URL = RABBITMQ_URL
    connection = Connection(RABBITMQ_URL)
    channel = connection.channel()
    queue_name = f"barong-test-{uuid.uuid4().hex}"
    bindings = []
    for exchange_name, keys in ROUTES.items():
        exchange = Exchange(exchange_name, type="direct", durable=False)
        bindings += [(exchange, key) for key in keys]
    queue = Queue(queue_name, exclusive=True, auto_delete=True)(channel)
    for exchange, key in bindings:
        exchange(channel).declare()
        queue.declare()
        queue.bind_to(exchange=exchange, routing_key=key)

    def drain() -> list:
        messages = []
        while (message := queue.get(no_ack=True)) is not None:
            messages.append(message)
        return messages

    yield drain
    connection.release()


def verified_claims(message, jwks: dict) -> dict:
    """The claims of a message body, checked against the served JWK set (PyJWT, not our code)."""
    body = json.loads(message.body)
    assert set(body) == {"payload", "signatures"}
    (signature,) = body["signatures"]
    assert signature["header"] == {"kid": "barong"}
    protected = json.loads(b64url_decode(signature["protected"]))
    assert protected["alg"] == "RS256"
    key = next(k for k in jwks["keys"] if k["kid"] == protected["kid"])
    compact = f"{signature['protected']}.{body['payload']}.{signature['signature']}"
    return jwt.decode(compact, jwt.PyJWK(key).key, algorithms=["RS256"])


def test_consumer_receives_verified_events_of_every_flow(consumer, settings, mailoutbox):
    settings.BARONG_RATE_LIMITS = False
    api = CommittingAPIClient(HTTP_USER_AGENT=BROWSER_UA, REMOTE_ADDR="203.0.113.10")
    jwks = api.get("/.well-known/jwks.json").json()

    signup = api.post(
        "/api/v2/identity/users",
        {"email": "amqp@example.com", "password": STRONG_PASSWORD},
        format="json",
    )
    assert signup.status_code == HTTPStatus.CREATED
    api.post(
        "/api/v2/identity/users/email/confirm_code",
        {"token": last_token(mailoutbox, "confirmation")},
        format="json",
    )
    api.post(
        "/api/v2/identity/sessions",
        {"email": "amqp@example.com", "password": STRONG_PASSWORD},
        format="json",
    )
    user = User.objects.get(email="amqp@example.com")
    member = CommittingAPIClient(HTTP_USER_AGENT=BROWSER_UA, REMOTE_ADDR="203.0.113.10")
    member.credentials(HTTP_AUTHORIZATION=f"Bearer {bearer_for(user)}")
    member.post("/api/v2/resource/profiles", {"first_name": "Ann"})
    member.put("/api/v2/resource/profiles", {"first_name": "Anna"})
    member.post("/api/v2/resource/labels", {"key": "color", "value": "blue"})
    expire = (timezone.now() + timedelta(days=365)).date().isoformat()
    member.post(
        "/api/v2/resource/documents",
        {"doc_type": "Passport", "doc_number": "AB 1", "doc_expire": expire, "upload[]": [png()]},
        format="multipart",
    )
    member.post("/api/v2/resource/data_storage", {"title": "personal", "data": "{}"})

    messages = consumer()

    received = []
    for message in messages:
        claims = verified_claims(message, jwks)
        exchange = message.delivery_info["exchange"]
        routing_key = message.delivery_info["routing_key"]
        category = exchange.rsplit(".", 1)[1]
        assert claims["iss"] == "barong"
        assert claims["exp"] - claims["iat"] == 60
        assert claims["event"]["name"] == f"{category}.{routing_key}"
        assert message.properties["delivery_mode"] == 2  # persistent
        received.append((claims["event"]["name"], claims["jti"]))
    names = [name for name, _ in received]
    for expected in (
        "model.user.created",
        "system.user.email.confirmation.token",
        "model.label.created",
        "model.user.updated",
        "system.user.email.confirmed",
        "system.session.create",
        "model.profile.created",
        "model.profile.updated",
        "model.document.created",
        "model.data_storage.created",
    ):
        assert expected in names, (expected, names)
    assert len({jti for _, jti in received}) == len(received)
    rows = OutboxEvent.objects.filter(publish=True)
    assert {str(jti) for jti in rows.values_list("jti", flat=True)} == {j for _, j in received}
    assert not rows.filter(published_at__isnull=True).exists()


def test_one_users_events_are_published_in_order(consumer, db):
    from events.relay import outbox_relay_pass
    from events.services import event_record

    first = event_record(name="model.user.created", record={"uid": "A", "n": 1}, aggregate="user:A")
    later = timezone.now() + timedelta(hours=1)
    OutboxEvent.objects.filter(pk=first.pk).update(next_attempt_at=later)  # as after a failure
    second = event_record(
        name="model.user.updated", record={"uid": "A", "n": 2}, aggregate="user:A"
    )

    outbox_relay_pass()

    assert consumer() == []  # the second waits for the first
    second.refresh_from_db()
    assert second.published_at is None
    OutboxEvent.objects.filter(pk__in=[first.pk, second.pk]).update(next_attempt_at=timezone.now())

    outbox_relay_pass()

    bodies = [json.loads(b64url_decode(json.loads(m.body)["payload"])) for m in consumer()]
    assert [claims["event"]["record"]["n"] for claims in bodies] == [1, 2]
