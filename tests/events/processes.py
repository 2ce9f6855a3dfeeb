"""Real Redis, RabbitMQ and Celery worker processes that a fault test owns and stops.

Each runs on free loopback ports with its own data under the test's temporary folder,
and is stopped by its PID (RabbitMQ's epmd too, started here rather than by the node).
"""

import base64
import hashlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from ops.cluster.probes import free_ports, port_open

RABBITMQ_SERVER = "/usr/lib/rabbitmq/bin/rabbitmq-server"
REDIS_SERVER = shutil.which("redis-server") or "redis-server"
EPMD = shutil.which("epmd") or next(iter(Path("/usr/lib/erlang").glob("erts-*/bin/epmd")), None)
EXCHANGES = ("barong.events.system", "barong.events.model")


def binaries_missing() -> list[str]:
    missing = [] if shutil.which("redis-server") else ["redis-server"]
    if not Path(RABBITMQ_SERVER).exists() or EPMD is None:
        missing.append("rabbitmq-server")
    return missing


def _wait(condition, seconds: float, what: str, log: Path | None = None) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    tail = log.read_text(errors="replace")[-3000:] if log and log.exists() else ""
    raise RuntimeError(f"{what} not ready within {seconds}s\n{tail}")


def _stop(process: subprocess.Popen | None, sig: int = signal.SIGTERM, wait: float = 30) -> None:
    if process is None or process.poll() is not None:
        return
    process.send_signal(sig)
    try:
        process.wait(timeout=wait)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


class RedisServer:
    """redis-server with an append-only file, so a stop and start loses nothing."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self.port = free_ports(1)[0]
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        log = self.folder / "redis.log"
        self.process = subprocess.Popen(  # noqa: S603 - a fixed binary with our arguments
            [
                REDIS_SERVER,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.folder),
                "--save",
                "",
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
                "--daemonize",
                "no",
                "--logfile",
                str(log),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait(lambda: port_open(self.port), 20, "redis-server", log)
        except RuntimeError:
            self.stop()
            raise

    def stop(self) -> None:
        _stop(self.process)

    def __enter__(self) -> "RedisServer":
        self.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()


class RabbitMQServer:
    """A RabbitMQ node of its own (node name, ports, data, logs, epmd on loopback).

    ``queue`` is declared at boot from a definitions file, bound to the Event API's
    exchanges: they are transient (as Barong's consumers declare them), so after a
    restart the bindings exist again before any publisher reconnects.
    """

    USER, PASSWORD = "barong", secrets.token_hex(8)

    def __init__(self, folder: Path, queue: str, routing_keys: dict[str, list[str]]) -> None:
        self.folder = folder
        self.queue = queue
        self.routing_keys = routing_keys
        for name in ("mnesia", "log", "home"):
            (folder / name).mkdir(parents=True, exist_ok=True)
        self.port, self.dist_port, self.epmd_port = free_ports(3)
        self.node = f"barong-test-{secrets.token_hex(4)}@localhost"
        self.process: subprocess.Popen | None = None
        self.epmd: subprocess.Popen | None = None
        self._write_config()

    @property
    def url(self) -> str:
        return f"amqp://{self.USER}:{self.PASSWORD}@127.0.0.1:{self.port}//"

    def _password_hash(self) -> str:
        salt = secrets.token_bytes(4)
        digest = hashlib.sha256(salt + self.PASSWORD.encode()).digest()
        return base64.b64encode(salt + digest).decode()

    def _write_config(self) -> None:
        definitions = {
            "users": [
                {
                    "name": self.USER,
                    "password_hash": self._password_hash(),
                    "hashing_algorithm": "rabbit_password_hashing_sha256",
                    "tags": ["administrator"],
                }
            ],
            "vhosts": [{"name": "/"}],
            "permissions": [
                {"user": self.USER, "vhost": "/", "configure": ".*", "write": ".*", "read": ".*"}
            ],
            "exchanges": [
                {
                    "name": name,
                    "vhost": "/",
                    "type": "direct",
                    "durable": False,
                    "auto_delete": False,
                    "internal": False,
                    "arguments": {},
                }
                for name in EXCHANGES
            ],
            "queues": [
                {
                    "name": self.queue,
                    "vhost": "/",
                    "durable": True,
                    "auto_delete": False,
                    "arguments": {},
                }
            ],
            "bindings": [
                {
                    "source": exchange,
                    "vhost": "/",
                    "destination": self.queue,
                    "destination_type": "queue",
                    "routing_key": key,
                    "arguments": {},
                }
                for exchange, keys in self.routing_keys.items()
                for key in keys
            ],
        }
        (self.folder / "definitions.json").write_text(json.dumps(definitions))
        (self.folder / "rabbitmq.conf").write_text(
            f"load_definitions = {self.folder / 'definitions.json'}\n"
        )
        (self.folder / "enabled_plugins").write_text("[].\n")

    def _env(self) -> dict[str, str]:
        return {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.folder / "home"),
            "RABBITMQ_NODENAME": self.node,
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "RABBITMQ_MNESIA_BASE": str(self.folder / "mnesia"),
            "RABBITMQ_LOG_BASE": str(self.folder / "log"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.folder / "enabled_plugins"),
            "RABBITMQ_CONFIG_FILE": str(self.folder / "rabbitmq.conf"),
            "ERL_EPMD_ADDRESS": "127.0.0.1",
            "ERL_EPMD_PORT": str(self.epmd_port),
        }

    def start(self) -> None:
        env = self._env()
        log = self.folder / "server.log"
        if self.epmd is None or self.epmd.poll() is not None:
            self.epmd = subprocess.Popen(  # noqa: S603 - a fixed binary with our arguments
                [str(EPMD), "-address", "127.0.0.1", "-port", str(self.epmd_port)],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            _wait(lambda: port_open(self.epmd_port), 10, "epmd")
        with log.open("a") as output:
            self.process = subprocess.Popen(  # noqa: S603 - a fixed binary, our environment
                [RABBITMQ_SERVER], env=env, stdout=output, stderr=subprocess.STDOUT
            )
        try:
            _wait(lambda: port_open(self.port), 120, "rabbitmq-server", log)
        except RuntimeError:
            self.close()  # a node that did not come up leaves no process behind
            raise

    def stop(self) -> None:
        """Stop the node (the script passes TERM on to it and waits)."""
        _stop(self.process, wait=60)

    def close(self) -> None:
        self.stop()
        _stop(self.epmd)


def celery_worker_command(*options: str) -> list[str]:
    """One solo worker of this project's Celery app, logging its tasks (``options``: ``-B``
    to run beat inside it)."""
    return [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "barong",
        "worker",
        *options,
        "--pool=solo",
        "--without-gossip",
        "--without-mingle",
        "--loglevel=INFO",
    ]


class CeleryWorker:
    """``celery -A barong worker -B`` in its own process group (SIGKILL takes beat with it)."""

    def __init__(self, env: dict[str, str], log: Path, cwd: Path) -> None:
        self.env, self.log, self.cwd = env, log, cwd
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        with self.log.open("a") as output:
            self.process = subprocess.Popen(  # noqa: S603
                celery_worker_command("-B"),
                cwd=self.cwd,
                env=self.env,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def kill(self) -> None:
        """SIGKILL, as a crashed host: no task finishes, nothing is acknowledged."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()
