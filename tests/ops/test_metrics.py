"""GET /metrics: Prometheus text behind BARONG_METRICS_TOKEN, and what the counters count."""

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import serving
from tests.factories import DEFAULT_PASSWORD

ROOT = Path(__file__).resolve().parents[2]


def scrape(client, token: str | None = None) -> dict[tuple[str, tuple], float]:
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    response = client.get("/metrics", **headers)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain")
    return parse(response.content.decode())


def parse(text: str) -> dict[tuple[str, tuple], float]:
    samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_open_without_a_token_setting(api, db, settings):
    settings.BARONG_METRICS_TOKEN = ""
    api.get("/api/v2/identity/ping")
    samples = scrape(api)
    assert any(name.startswith("barong_http_requests") for name, _ in samples)


@pytest.mark.parametrize(
    "header",
    [None, "Bearer wrong", "Basic c2VjcmV0", "Bearer", "bearer s3cret-token-x", "Bearer \x00"],
)
def test_token_required_when_set(api, db, settings, header):
    settings.BARONG_METRICS_TOKEN = "s3cret-token"
    extra = {"HTTP_AUTHORIZATION": header} if header is not None else {}
    response = api.get("/metrics", **extra)
    assert response.status_code == 401
    assert response.json() == {"errors": ["metrics.unauthorized"]}
    assert b"barong_" not in response.content


def test_static_files_count_under_one_route(api, db, settings):
    """WhiteNoise answers them ahead of URL resolution: one route, not "unmatched"."""
    settings.BARONG_METRICS_TOKEN = ""

    def counted() -> float:
        return sum(
            count
            for (name, labels), count in scrape(api).items()
            if name == "barong_http_requests_total" and ("route", "static/<path>") in labels
        )

    before = counted()
    api.get("/static/admin/css/base.css")
    api.get("/static/drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js")
    assert counted() == before + 2


def test_token_accepted_and_writes_refused(api, db, settings):
    settings.BARONG_METRICS_TOKEN = "s3cret-token"
    scrape(api, "s3cret-token")
    response = api.post("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-token")
    assert response.status_code == 405


def test_requests_are_counted_by_route_and_status(api, db):
    before = scrape(api)
    api.get("/api/v2/identity/ping")
    api.get("/api/v2/no/such/path")
    after = scrape(api)
    ping = {"route": "api/v2/identity/ping", "method": "GET", "status": "200"}
    assert value(after, "barong_http_requests_total", **ping) == (
        value(before, "barong_http_requests_total", **ping) + 1
    )
    routes = {dict(labels).get("route") for name, labels in after if name.startswith("barong_")}
    assert not any(route and "no/such" in route for route in routes)  # raw paths never leak
    latency = {"route": "api/v2/identity/ping"}
    assert value(after, "barong_http_request_duration_seconds_count", **latency) >= 1


def test_authz_decisions_by_result_and_reason(api, db, make_user):
    before = scrape(api)
    api.get("/api/v2/auth/api/v2/barong/identity/ping")
    api.get("/api/v2/auth/api/v2/barong/resource/users/me")
    api.get("/api/v2/auth/api/v2/barong/management/x")
    after = scrape(api)
    name = "barong_authz_decisions_total"
    for labels in (
        {"result": "allow", "reason": "public"},
        {"result": "deny", "reason": "authz.invalid_session"},
        {"result": "deny", "reason": "authz.permission_denied"},
    ):
        assert value(after, name, **labels) == value(before, name, **labels) + 1, labels


def test_logins_by_outcome(api, make_user):
    user = make_user()
    before = scrape(api)
    api.post("/api/v2/identity/sessions", {"email": user.email, "password": "wrong"})
    api.post("/api/v2/identity/sessions", {"email": user.email, "password": DEFAULT_PASSWORD})
    after = scrape(api)
    name = "barong_logins_total"
    for outcome in ("success", "identity.session.invalid_params"):
        assert value(after, name, outcome=outcome) == value(before, name, outcome=outcome) + 1


def test_rate_limit_hits_and_emails_sent(api, db, settings, django_capture_on_commit_callbacks):
    settings.BARONG_RATE_LIMIT_RULES = {**settings.BARONG_RATE_LIMIT_RULES, "signup_ip": "1/300"}
    before = scrape(api)
    with django_capture_on_commit_callbacks(execute=True):
        first = api.post(
            "/api/v2/identity/users",
            {"email": "metrics@example.com", "password": DEFAULT_PASSWORD},
        )
    assert first.status_code == 201
    second = api.post(
        "/api/v2/identity/users", {"email": "other@example.com", "password": DEFAULT_PASSWORD}
    )
    assert second.status_code == 429
    after = scrape(api)
    hits = "barong_rate_limit_hits_total"
    assert value(after, hits, rule="signup_ip") == value(before, hits, rule="signup_ip") + 1
    sent = "barong_emails_sent_total"
    template = "email_confirmation"
    assert value(after, sent, template=template) == value(before, sent, template=template) + 1


def test_outbox_gauges_count_undelivered_rows(api, db):
    before = scrape(api)
    # Under the test transaction the relay (run on commit) never starts: the sign-up's
    # events stay in the outbox, as they would with every worker down.
    response = api.post(
        "/api/v2/identity/users", {"email": "outbox@example.com", "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 201
    after = scrape(api)
    assert value(after, "barong_outbox_backlog") > value(before, "barong_outbox_backlog")
    assert value(after, "barong_outbox_oldest_age_seconds") >= 0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_multiprocess_mode_adds_up_every_gunicorn_worker(tmp_path):
    """Two workers, one PROMETHEUS_MULTIPROC_DIR: the scrape sees every request."""
    gunicorn = Path(sys.executable).with_name("gunicorn")
    if not gunicorn.exists():
        pytest.skip("needs gunicorn")
    metrics_dir = tmp_path / "prom"
    metrics_dir.mkdir()
    port = _free_port()
    env = {
        **os.environ,
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
        "BARONG_DATA_DIR": str(tmp_path / "var"),
        "BARONG_METRICS_TOKEN": "scrape-me",
        "BARONG_CACHE": "locmem",
    }
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    with serving(
        [
            str(gunicorn),
            "barong.wsgi:application",
            "-b",
            f"127.0.0.1:{port}",
            "-w",
            "2",
            "-c",
            str(ROOT / "ops" / "gunicorn_conf.py"),
        ],
        port=port,
        env=env,
        tries=200,
        stderr=subprocess.PIPE,
    ) as base:
        session = requests.Session()
        for _ in range(30):
            session.get(f"{base}/api/v2/identity/ping", headers={"Connection": "close"}, timeout=10)
        text = requests.get(
            f"{base}/metrics", headers={"Authorization": "Bearer scrape-me"}, timeout=5
        ).text
    samples = parse(text)
    ping = {"route": "api/v2/identity/ping", "method": "GET", "status": "200"}
    assert value(samples, "barong_http_requests_total", **ping) == 30
    assert list(metrics_dir.glob("counter_*.db"))  # the workers' values live in files there
