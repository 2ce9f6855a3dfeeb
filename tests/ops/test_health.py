"""health/alive and health/ready: both prefixes, no auth, no rate limit, 503 naming what is down."""

import os
import shutil
import socket
import subprocess
import time

import pytest

PREFIXES = ["/api/v2", "/api/v2/barong"]


@pytest.mark.parametrize("prefix", PREFIXES)
def test_alive_answers_without_credentials(api, db, prefix):
    response = api.get(f"{prefix}/health/alive")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.parametrize("prefix", PREFIXES)
def test_ready_checks_database_and_cache(api, db, prefix):
    response = api.get(f"{prefix}/health/ready")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "cache": "ok"}}


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_probes_refuse_writes_with_a_json_error(api, db, method):
    response = getattr(api, method)("/api/v2/health/ready")
    assert response.status_code == 405
    assert response.json() == {"errors": ["route.method_not_allowed"]}


def test_probes_are_not_rate_limited(api, db, settings):
    settings.BARONG_RATE_LIMIT_RULES = {
        **settings.BARONG_RATE_LIMIT_RULES,
        "login_ip": "1/300",
        "signup_ip": "1/300",
    }
    statuses = {api.get("/api/v2/health/ready").status_code for _ in range(40)}
    assert statuses == {200}


def test_hostile_query_and_suffix_are_harmless(api, db):
    assert api.get("/api/v2/health/ready?x=%00&y=" + "a" * 5000).status_code == 200
    response = api.get("/api/v2/health/ready/../../admin")
    assert response.status_code == 404
    assert response.json() == {"errors": ["route.not_found"]}


@pytest.mark.parametrize("path", ["api/v2/barong/health/alive", "api/v2/barong/health/ready"])
def test_the_gateway_passes_probes_without_a_session(api, db, path):
    response = api.get(f"/api/v2/auth/{path}")
    assert response.status_code == 200
    assert "Authorization" not in response


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_ready_names_an_unreachable_event_api(api, db, settings):
    settings.BARONG_EVENT_API_URL = f"amqp://guest:guest@127.0.0.1:{_free_port()}//"
    started = time.monotonic()
    response = api.get("/api/v2/health/ready")
    assert time.monotonic() - started < 5  # bounded by the broker timeout, not TCP's
    assert response.status_code == 503
    assert response.json() == {
        "errors": ["health.event_api_down"],
        "checks": {"database": "ok", "cache": "ok", "event_api": "down"},
    }
    assert response["Retry-After"]


@pytest.fixture
def own_redis(tmp_path):
    """A redis-server of this test's own, on a free port (never the shared one)."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("needs redis-server")
    port = _free_port()
    command = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir"]
    command.append(str(tmp_path))

    def start() -> subprocess.Popen:
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL)  # noqa: S603
        for _ in range(100):
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    return process
            time.sleep(0.05)
        process.kill()
        pytest.fail("redis-server did not start")

    state = {"process": start()}

    def stop() -> None:
        state["process"].terminate()
        state["process"].wait(10)

    def restart() -> None:
        state["process"] = start()

    yield f"redis://127.0.0.1:{port}/0", stop, restart
    if state["process"].poll() is None:
        stop()


def test_ready_is_503_while_redis_is_down_and_recovers(api, db, settings, own_redis):
    url, stop, restart = own_redis
    settings.CACHES = {
        "default": {"BACKEND": "barong.cache.RedisCache", "LOCATION": url, "KEY_PREFIX": "h"}
    }
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = url
    first = api.get("/api/v2/health/ready")
    assert first.status_code == 200
    assert first.json()["checks"] == {"database": "ok", "cache": "ok", "broker": "ok"}

    stop()
    down = api.get("/api/v2/barong/health/ready")
    assert down.status_code == 503
    assert down.json()["errors"] == ["health.cache_down", "health.broker_down"]
    assert api.get("/api/v2/health/alive").status_code == 200  # the process still answers

    restart()
    assert api.get("/api/v2/health/ready").status_code == 200


@pytest.mark.skipif(not os.environ.get("RABBITMQ_URL"), reason="needs RABBITMQ_URL (CI)")
def test_ready_checks_a_reachable_event_api(api, db, settings):
    settings.BARONG_EVENT_API_URL = os.environ["RABBITMQ_URL"]
    response = api.get("/api/v2/health/ready")
    assert response.status_code == 200
    assert response.json()["checks"]["event_api"] == "ok"
