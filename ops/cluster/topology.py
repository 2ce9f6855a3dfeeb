"""The production topology on one machine: start it, stop it, and break one piece of it.

``make cluster`` (``python -m ops.cluster start``) runs, on free loopback ports with data
under ``var/cluster/``: PostgreSQL primary and a streaming replica (``pg_basebackup``),
PgBouncer in transaction mode in front of each, Redis primary and replica watched by three
Sentinels, HAProxy (Redis clients to the Sentinel-elected primary, HTTP over the two
gunicorn nodes), RabbitMQ, and two Celery workers, one of them running beat. The
configuration files are the ones in this folder, rendered with the ports; every process's
PID and command line go into ``var/cluster/state.json``, so ``make cluster-stop`` stops
each by its PID and the cluster tests (tests/cluster/) kill and restart single services.

The same code runs from the Makefile and inside the tests: the standard library, and
``cryptography`` for the cluster's generated JWT key. The Barong processes get the
environment of whoever starts them, overridden by ``barong.env`` and ``secrets.env``.

This module holds the running cluster's state and control (``Cluster``, ``stop``);
``layout.py`` lays a fresh one out and starts it (``create``); ``probes.py`` has the port,
process and Redis probes both use.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ops.cluster.probes import pid_alive, port_open, redis_command, wait_for

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
PG_BIN = Path("/usr/lib/postgresql/15/bin")
RABBITMQ_SERVER = Path("/usr/lib/rabbitmq/bin/rabbitmq-server")
MASTER_NAME = "barong"
AUDIT_QUEUE = "barong.cluster.audit"

# Each service: how to stop it politely, then for good. PostgreSQL's SIGINT is its fast
# shutdown; RabbitMQ's script passes TERM on to the Erlang node.
POLITE = {"pg-primary": "INT", "pg-replica": "INT"}
# Stopped in this order (the clients before what they use).
STOP_ORDER = (
    "worker-1", "worker-2", "app-1", "app-2", "haproxy",
    "sentinel-1", "sentinel-2", "sentinel-3", "redis-1", "redis-2",
    "pgbouncer-primary", "pgbouncer-replica", "pg-replica", "pg-primary",
    "rabbitmq", "epmd",
)  # fmt: skip


@dataclass
class Service:
    name: str
    argv: list[str]
    log: str
    port: int | None = None
    env: dict[str, str] = field(default_factory=dict)
    as_postgres: bool = False
    pid: int | None = None


class Cluster:
    """The topology's state (ports, paths, services) in ``<root>/state.json``."""

    def __init__(self, root: Path | str | None = None) -> None:
        self.root = Path(root or os.environ.get("BARONG_CLUSTER_DIR") or REPO / "var" / "cluster")
        self.state_file = self.root / "state.json"
        self.ports: dict[str, int] = {}
        self.services: dict[str, Service] = {}
        self.paths: dict[str, str] = {}
        if self.state_file.exists():
            state = json.loads(self.state_file.read_text())
            self.ports, self.paths = state["ports"], state["paths"]
            self.services = {name: Service(**svc) for name, svc in state["services"].items()}

    # ------------------------------------------------------------ state
    def save(self) -> None:
        state = {
            "ports": self.ports,
            "paths": self.paths,
            "services": {name: asdict(svc) for name, svc in self.services.items()},
        }
        tmp = self.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, indent=1))
        tmp.replace(self.state_file)

    def env(self) -> dict[str, str]:
        """The Barong processes' environment (barong.env with the secrets)."""
        values: dict[str, str] = {}
        for name in ("barong.env", "secrets.env"):
            for line in (self.root / name).read_text().splitlines():
                if line.strip() and not line.lstrip().startswith("#"):
                    key, _, value = line.partition("=")
                    values[key.strip()] = value.strip()
        return values

    def url(self, path: str = "") -> str:
        return f"http://127.0.0.1:{self.ports['http']}{path}"

    # ------------------------------------------------------------ processes
    def spawn(self, name: str) -> int:
        """Start one service from its recorded command line; returns its PID."""
        svc = self.services[name]
        argv = list(svc.argv)
        if svc.as_postgres and os.geteuid() == 0:
            # setpriv executes (runuser would fork): the PID is the server itself.
            argv = ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", *argv]
        env = {**os.environ, **svc.env} if svc.env else None
        with open(svc.log, "ab") as log:
            process = subprocess.Popen(  # noqa: S603 - our own services' fixed command lines
                argv,
                cwd=self.paths.get("cwd", str(REPO)),
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own group: a kill takes its children too
            )
        svc.pid = process.pid
        self.save()
        return process.pid

    def alive(self, name: str) -> bool:
        return pid_alive(self.services[name].pid)

    def kill(self, name: str, sig: str = "KILL") -> None:
        """Signal the service's process group (a gunicorn master with its workers)."""
        svc = self.services[name]
        if not pid_alive(svc.pid):
            return
        try:
            os.killpg(svc.pid, getattr(signal, f"SIG{sig}"))
        except ProcessLookupError:
            return
        except PermissionError:
            os.kill(svc.pid, getattr(signal, f"SIG{sig}"))

    def stop(self, name: str, seconds: float = 30) -> None:
        """Polite signal, then SIGKILL if it lingers; waits until the process is gone."""
        svc = self.services.get(name)
        if svc is None or not pid_alive(svc.pid):
            return
        self.kill(name, POLITE.get(name, "TERM"))
        deadline = time.monotonic() + seconds
        while pid_alive(svc.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if pid_alive(svc.pid):
            self.kill(name, "KILL")
            wait_for(lambda: not pid_alive(svc.pid), 10, f"{name} gone")
        if svc.port:
            wait_for(lambda: not port_open(svc.port), 10, f"{name}'s port closed")

    def start(self, name: str, seconds: float = 60) -> float:
        """Spawn a stopped service and wait until it answers; the seconds that took."""
        started = time.monotonic()
        if name.startswith("redis-"):
            self._redis_follow_primary(name)
        self.spawn(name)
        self.ready(name, seconds)
        return time.monotonic() - started

    def ready(self, name: str, seconds: float = 60) -> None:
        svc = self.services[name]
        log = Path(svc.log)

        def up() -> bool:
            if not pid_alive(svc.pid):
                raise RuntimeError(f"{name} exited\n{log.read_text(errors='replace')[-3000:]}")
            if name.startswith("pg-"):
                return self._pg_ready(svc.port)
            if name.startswith("app-"):
                return self._http_ok(svc.port, "/api/v2/health/alive")
            if name.startswith(("redis-", "sentinel-")):
                return "PONG" in self._safe_redis(svc.port, "PING")
            return svc.port is None or port_open(svc.port)

        wait_for(up, seconds, f"{name} ready", log)

    @staticmethod
    def _safe_redis(port: int, *args: str) -> str:
        try:
            return redis_command(port, *args)
        except OSError:
            return ""

    def _pg_ready(self, port: int) -> bool:
        done = subprocess.run(  # noqa: S603 - fixed binary
            [str(PG_BIN / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(port)], check=False
        )
        return done.returncode == 0

    @staticmethod
    def _http_ok(port: int, path: str) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                sock.sendall(f"GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n".encode())
                return sock.recv(64).startswith(b"HTTP/1.")
        except OSError:
            return False

    # ------------------------------------------------------------ Redis and Sentinel
    def redis_primary(self) -> str:
        """The node name Sentinel calls primary now (redis-1 or redis-2), or '' if none."""
        for index in (1, 2, 3):
            if not self.alive(f"sentinel-{index}"):
                continue
            reply = self._safe_redis(
                self.ports[f"sentinel-{index}"], "SENTINEL", "get-master-addr-by-name", MASTER_NAME
            )
            for node in ("redis-1", "redis-2"):
                if f"\r\n{self.ports[node]}\r\n" in reply:
                    return node
        return ""

    def redis_role(self, name: str) -> str:
        reply = self._safe_redis(self.ports[name], "ROLE")
        for role in ("master", "slave", "sentinel"):
            if f"\r\n{role}\r\n" in reply:
                return role
        return ""

    def _redis_follow_primary(self, name: str) -> None:
        """A node that comes back while the other is primary starts as its replica, so
        HAProxy never sees two nodes saying role:master (Sentinel would demote it only
        after it had taken writes)."""
        primary = self.redis_primary()
        if not primary:  # no Sentinel up yet (the first start): the file says what to be
            return
        conf = Path(self.paths[f"{name}-conf"])
        lines = [ln for ln in conf.read_text().splitlines() if not ln.startswith("replicaof ")]
        if primary and primary != name:
            lines.append(f"replicaof 127.0.0.1 {self.ports[primary]}")
        conf.write_text("\n".join(lines) + "\n")

    # ------------------------------------------------------------ PostgreSQL
    def psql(self, name: str, sql: str) -> str:
        """Run SQL on pg-primary or pg-replica directly (not through PgBouncer)."""
        command = [
            str(PG_BIN / "psql"), "-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1",
            "-h", "127.0.0.1", "-p", str(self.ports[name]), "-U", "postgres", "-d", "barong",
            "-c", sql,
        ]  # fmt: skip
        done = subprocess.run(command, check=True, capture_output=True, text=True, timeout=30)  # noqa: S603
        return done.stdout.strip()


def stop(root: Path | str | None = None) -> list[str]:
    """Stop every process of the cluster by its PID; the names of those that were running."""
    cluster = Cluster(root)
    stopped = []
    for name in STOP_ORDER:
        if cluster.alive(name):
            stopped.append(name)
            cluster.stop(name, seconds=60)
    pg_root = cluster.paths.get("pg_root")
    link = cluster.root / "pg"
    if pg_root and link.is_symlink():
        shutil.rmtree(pg_root, ignore_errors=True)
        link.unlink()
    return stopped


def addresses(cluster: Cluster) -> str:
    p, host = cluster.ports, "127.0.0.1"
    rows = [
        ("HTTP (HAProxy → app-1, app-2)", f"http://127.0.0.1:{p['http']}"),
        ("app-1, app-2 (gunicorn)", f"127.0.0.1:{p['app-1']}, 127.0.0.1:{p['app-2']}"),
        ("Redis (HAProxy → primary)", f"redis://127.0.0.1:{p['haproxy-redis']}/0"),
        ("Redis nodes", f"127.0.0.1:{p['redis-1']}, 127.0.0.1:{p['redis-2']}"),
        ("Sentinels", ", ".join(f"127.0.0.1:{p[f'sentinel-{i}']}" for i in (1, 2, 3))),
        ("PostgreSQL primary, replica", f"{host}:{p['pg-primary']}, {host}:{p['pg-replica']}"),
        ("PgBouncers", f"{host}:{p['pgbouncer-primary']}, {host}:{p['pgbouncer-replica']}"),
        ("RabbitMQ", f"amqp://127.0.0.1:{p['rabbitmq']}"),
        ("HAProxy admin socket", cluster.paths["admin_socket"]),
        ("environment", f"{cluster.root}/barong.env (+ secrets.env)"),
        ("e-mails", cluster.paths["mail"]),
        ("logs", str(cluster.root / "log")),
    ]  # fmt: skip
    width = max(len(label) for label, _ in rows)
    return "\n".join(f"  {label:<{width}}  {value}" for label, value in rows)
