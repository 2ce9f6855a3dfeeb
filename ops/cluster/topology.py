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
"""

import base64
import contextlib
import hashlib
import json
import os
import secrets
import shutil
import signal
import socket
import string
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

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


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.3)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def pid_alive(pid: int | None) -> bool:
    """Running and not a zombie (a child of ours that exited and was not reaped yet)."""
    if not pid:
        return False
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # reap it if it is our child and has exited
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def wait_for(condition, seconds: float, what: str, log: Path | None = None) -> float:
    """Poll ``condition`` until true; the seconds it took. Raises with the log's tail."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if condition():
            return time.monotonic() - started
        time.sleep(0.1)
    tail = log.read_text(errors="replace")[-3000:] if log and log.exists() else ""
    raise RuntimeError(f"{what}: not within {seconds}s\n{tail}")


def redis_command(port: int, *args: str, timeout: float = 1.0) -> str:
    """One command over RESP to a Redis or Sentinel on loopback; the raw reply as text."""
    payload = f"*{len(args)}\r\n" + "".join(f"${len(a.encode())}\r\n{a}\r\n" for a in args)
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(payload.encode())
        chunks = b""
        sock.settimeout(timeout)
        while True:
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                break
            if not chunk:
                break
            chunks += chunk
            if _resp_complete(chunks):
                break
    return chunks.decode(errors="replace")


def _resp_complete(data: bytes) -> bool:
    """Whether ``data`` holds one whole RESP reply (the kinds INFO/ROLE/SENTINEL send)."""

    def walk(at: int) -> int:
        end = data.find(b"\r\n", at)
        if end < 0:
            return -1
        kind, head = data[at : at + 1], data[at + 1 : end]
        if kind in (b"+", b"-", b":"):
            return end + 2
        if kind == b"$":
            size = int(head)
            stop = end + 2 + max(size, 0) + (2 if size >= 0 else 0)
            return stop if len(data) >= stop else -1
        if kind == b"*":
            at = end + 2
            for _ in range(max(int(head), 0)):
                at = walk(at)
                if at < 0:
                    return -1
            return at
        return len(data)

    return walk(0) >= 0


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


def _render(template: str, target: Path, **values) -> Path:
    text = string.Template((HERE / template).read_text()).substitute(
        {key: str(value) for key, value in values.items()}
    )
    target.write_text(text)
    return target


def _postgres_can_reach(folder: Path) -> bool:
    if os.geteuid() != 0:
        return True
    done = subprocess.run(  # noqa: S603 - fixed binaries
        ["/usr/sbin/runuser", "-u", "postgres", "--", "test", "-x", str(folder)], check=False
    )
    return done.returncode == 0


def _run(argv: list[str], *, as_postgres: bool = False, env: dict | None = None, cwd=None) -> str:
    if as_postgres and os.geteuid() == 0:
        argv = ["runuser", "-u", "postgres", "--", *argv]
    done = subprocess.run(  # noqa: S603 - our own set-up commands
        argv, capture_output=True, text=True, env=env, cwd=cwd, timeout=600, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"{' '.join(argv[:4])} failed:\n{done.stdout[-3000:]}{done.stderr[-3000:]}"
        )
    return done.stdout


def _secrets() -> dict[str, str]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return {
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "JWT_PRIVATE_KEY": base64.b64encode(pem).decode(),
        "BARONG_ENCRYPTION_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
    }


def _rabbit_hash(password: str) -> str:
    salt = secrets.token_bytes(4)
    return base64.b64encode(salt + hashlib.sha256(salt + password.encode()).digest()).decode()


def create(
    root: Path | str | None = None, *, gunicorn_workers: int = 2, extra_env: dict | None = None
) -> Cluster:
    """Lay out a fresh cluster under ``root`` (anything there before is removed) and start it.

    ``extra_env``: more variables for the Barong processes, added to barong.env (the
    cluster tests loosen the per-address limits: all their clients share one address).
    """
    cluster = Cluster.__new__(Cluster)
    cluster.root = Path(root or os.environ.get("BARONG_CLUSTER_DIR") or REPO / "var" / "cluster")
    cluster.state_file = cluster.root / "state.json"
    if cluster.state_file.exists() and any(
        pid_alive(svc.get("pid"))
        for svc in json.loads(cluster.state_file.read_text())["services"].values()
    ):
        raise RuntimeError(
            f"a cluster is running in {cluster.root}: stop it first (make cluster-stop)"
        )
    shutil.rmtree(cluster.root, ignore_errors=True)
    root = cluster.root
    for sub in (
        "etc",
        "log",
        "redis",
        "mail",
        "app",
        "rabbitmq/mnesia",
        "rabbitmq/log",
        "rabbitmq/home",
    ):
        (root / sub).mkdir(parents=True, exist_ok=True)
    # PostgreSQL and PgBouncer refuse to run as root: as root they run as ``postgres``,
    # which must be able to reach their folder; where it cannot (a private home), the
    # folder lives in /tmp and var/cluster/pg points at it.
    pg_root = root / "pg"
    if _postgres_can_reach(root):
        pg_root.mkdir()
    else:
        outside = Path(tempfile.mkdtemp(prefix="barong-cluster-pg-"))
        outside.chmod(0o755)
        pg_root.symlink_to(outside)
    (pg_root / "sock").mkdir()
    if os.geteuid() == 0:
        shutil.chown(pg_root, "postgres", "postgres")
        shutil.chown(pg_root / "sock", "postgres", "postgres")

    names = [
        "pg-primary", "pg-replica", "pgbouncer-primary", "pgbouncer-replica", "redis-1",
        "redis-2", "sentinel-1", "sentinel-2", "sentinel-3", "haproxy-redis", "http",
        "app-1", "app-2", "rabbitmq", "rabbitmq-dist", "epmd",
    ]  # fmt: skip
    cluster.ports = dict(zip(names, free_ports(len(names)), strict=True))
    ports = cluster.ports
    cluster.paths = {
        "cwd": str(REPO),
        "pg_root": str(pg_root.resolve()),
        "mail": str(root / "mail"),
        "app": str(root / "app"),
        "admin_socket": str(root / "haproxy.sock"),
    }
    cluster.services = {}
    log = root / "log"
    etc = root / "etc"

    def add(name: str, argv: list[str], port: int | None = None, **kwargs) -> None:
        cluster.services[name] = Service(name, argv, str(log / f"{name}.log"), port, **kwargs)

    # ---------------------------------------------------------------- PostgreSQL
    primary, replica = pg_root / "primary", pg_root / "replica"
    sockets = pg_root / "sock"
    _run(
        [str(PG_BIN / "initdb"), "-D", str(primary), "-U", "postgres", "-A", "trust", "-E", "UTF8",
         "--locale=C.UTF-8"],
        as_postgres=True, cwd=str(pg_root),
    )  # fmt: skip
    conf = _render("postgresql.conf", Path(tempfile.mktemp()), pg_sockets=sockets)  # noqa: S306
    shutil.copy(conf, primary / "cluster.conf")
    conf.unlink()
    shutil.copy(HERE / "pg_hba.conf", primary / "pg_hba.conf")
    with (primary / "postgresql.conf").open("a") as main_conf:
        main_conf.write("\ninclude 'cluster.conf'\n")
    if os.geteuid() == 0:
        for path in (primary / "cluster.conf", primary / "pg_hba.conf"):
            shutil.chown(path, "postgres", "postgres")
    for name, data in (("pg-primary", primary), ("pg-replica", replica)):
        argv = [str(PG_BIN / "postgres"), "-D", str(data), "-p", str(ports[name])]
        add(name, argv, ports[name], as_postgres=True)
    auth = pg_root / "userlist.txt"
    auth.write_text('"postgres" ""\n')
    for role, pg in (("primary", "pg-primary"), ("replica", "pg-replica")):
        ini = _render(
            "pgbouncer.ini", pg_root / f"pgbouncer-{role}.ini",
            pg_port=ports[pg], port=ports[f"pgbouncer-{role}"], auth_file=auth,
            logfile=pg_root / f"pgbouncer-{role}.log",
        )  # fmt: skip
        if os.geteuid() == 0:
            shutil.chown(ini, "postgres", "postgres")
        add(
            f"pgbouncer-{role}",
            ["pgbouncer", str(ini)],
            ports[f"pgbouncer-{role}"],
            as_postgres=True,
        )
    if os.geteuid() == 0:
        shutil.chown(auth, "postgres", "postgres")

    # ---------------------------------------------------------------- Redis and Sentinel
    for index, name in enumerate(("redis-1", "redis-2")):
        folder = root / "redis" / name
        folder.mkdir()
        replicaof = "" if index == 0 else f"replicaof 127.0.0.1 {ports['redis-1']}"
        path = _render("redis.conf", etc / f"{name}.conf", port=ports[name], dir=folder,
                       logfile=log / f"{name}.server.log", replicaof=replicaof)  # fmt: skip
        cluster.paths[f"{name}-conf"] = str(path)
        add(name, ["redis-server", str(path)], ports[name])
    for index in (1, 2, 3):
        name = f"sentinel-{index}"
        folder = root / "redis" / name
        folder.mkdir()
        path = _render("sentinel.conf", etc / f"{name}.conf", port=ports[name], dir=folder,
                       logfile=log / f"{name}.server.log", redis_port=ports["redis-1"])  # fmt: skip
        add(name, ["redis-sentinel", str(path)], ports[name])

    # ---------------------------------------------------------------- RabbitMQ
    rabbit_password = secrets.token_hex(12)
    rabbit = root / "rabbitmq"
    definitions = _render("rabbitmq-definitions.json", etc / "rabbitmq-definitions.json",
                          password_hash=_rabbit_hash(rabbit_password))  # fmt: skip
    (etc / "rabbitmq.conf").write_text(f"load_definitions = {definitions}\n")
    (etc / "enabled_plugins").write_text("[].\n")
    erlang = {"ERL_EPMD_ADDRESS": "127.0.0.1", "ERL_EPMD_PORT": str(ports["epmd"])}
    epmd = shutil.which("epmd") or str(next(Path("/usr/lib/erlang").glob("erts-*/bin/epmd")))
    add(
        "epmd",
        [epmd, "-address", "127.0.0.1", "-port", str(ports["epmd"])],
        ports["epmd"],
        env=erlang,
    )
    add("rabbitmq", [str(RABBITMQ_SERVER)], ports["rabbitmq"], env={
        **erlang,
        "HOME": str(rabbit / "home"),
        "RABBITMQ_NODENAME": f"barong-cluster-{ports['rabbitmq']}@localhost",
        "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
        "RABBITMQ_NODE_PORT": str(ports["rabbitmq"]),
        "RABBITMQ_DIST_PORT": str(ports["rabbitmq-dist"]),
        "RABBITMQ_MNESIA_BASE": str(rabbit / "mnesia"),
        "RABBITMQ_LOG_BASE": str(rabbit / "log"),
        "RABBITMQ_ENABLED_PLUGINS_FILE": str(etc / "enabled_plugins"),
        "RABBITMQ_CONFIG_FILE": str(etc / "rabbitmq.conf"),
    })  # fmt: skip

    # ---------------------------------------------------------------- HAProxy
    haproxy = _render(
        "haproxy.cfg", etc / "haproxy.cfg", admin_socket=cluster.paths["admin_socket"],
        redis_port=ports["haproxy-redis"], redis_1_port=ports["redis-1"],
        redis_2_port=ports["redis-2"], http_port=ports["http"], app_1_port=ports["app-1"],
        app_2_port=ports["app-2"],
    )  # fmt: skip
    add("haproxy", ["haproxy", "-db", "-f", str(haproxy)], ports["http"])

    # ---------------------------------------------------------------- Barong
    sentinels = ";".join(f"sentinel://127.0.0.1:{ports[f'sentinel-{i}']}" for i in (1, 2, 3))
    _render(
        "barong.env", root / "barong.env", data_dir=root / "app",
        pgbouncer_primary_port=ports["pgbouncer-primary"],
        pgbouncer_replica_port=ports["pgbouncer-replica"],
        haproxy_redis_port=ports["haproxy-redis"], sentinel_urls=sentinels,
        rabbitmq_password=rabbit_password, rabbitmq_port=ports["rabbitmq"],
        mail_dir=root / "mail", http_port=ports["http"],
    )  # fmt: skip
    if extra_env:
        with (root / "barong.env").open("a") as env_file:
            env_file.write("# Given to `python -m ops.cluster start --env`\n")
            env_file.writelines(f"{key}={value}\n" for key, value in extra_env.items())
    secret_file = root / "secrets.env"
    secret_file.touch(mode=0o600)
    secret_file.write_text("".join(f"{k}={v}\n" for k, v in _secrets().items()))
    cluster.save()
    app_env = cluster.env()
    python = sys.executable
    for index in (1, 2):
        name = f"app-{index}"
        add(name, [
            str(Path(python).parent / "gunicorn"), "barong.wsgi:application",
            "-c", "ops/gunicorn_conf.py", "-b", f"127.0.0.1:{ports[name]}",
            "-k", "gthread", "--threads", "1", "--keep-alive", "75", "-w", str(gunicorn_workers),
            "--graceful-timeout", "5",
        ], ports[name], env=app_env)  # fmt: skip
    for index in (1, 2):
        name = f"worker-{index}"
        argv = [python, "-m", "celery", "-A", "barong", "worker", "-l", "info", "-c", "2",
                "-n", f"{name}@%h", "--without-gossip", "--without-mingle"]  # fmt: skip
        if index == 1:
            argv.append("-B")
        add(name, argv, env=app_env)
    cluster.save()

    # ---------------------------------------------------------------- start, in order
    began = time.monotonic()

    def progress(what: str) -> None:
        print(f"cluster: {what} ({time.monotonic() - began:.0f} s)", file=sys.stderr, flush=True)

    # RabbitMQ takes longest to boot: it starts first and boots while the rest is set up.
    for name in ("epmd", "rabbitmq"):
        cluster.spawn(name)
    cluster.start("pg-primary")
    _run([str(PG_BIN / "createdb"), "-h", "127.0.0.1", "-p", str(ports["pg-primary"]), "-U",
          "postgres", "barong"])  # fmt: skip
    _run(
        [str(PG_BIN / "pg_basebackup"), "-h", "127.0.0.1", "-p", str(ports["pg-primary"]),
         "-U", "postgres", "-D", str(replica), "-R", "-X", "stream", "-c", "fast"],
        as_postgres=True, cwd=str(pg_root),
    )  # fmt: skip
    cluster.start("pg-replica")
    progress("PostgreSQL primary and replica up")
    for name in ("pgbouncer-primary", "pgbouncer-replica", "redis-1", "redis-2"):
        cluster.start(name)
    wait_for(lambda: cluster.redis_role("redis-2") == "slave", 20, "redis-2 replicating")
    for name in ("sentinel-1", "sentinel-2", "sentinel-3", "haproxy"):
        cluster.spawn(name)
    # Migrations straight on the primary (docs/operations.md: simpler than through
    # PgBouncer), then the seeds, in one process.
    direct = {
        **os.environ, **app_env,
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:{ports['pg-primary']}/barong",
        "DATABASE_PGBOUNCER": "false", "DATABASE_REPLICA_URL": "",
        "REDIS_URL": f"redis://127.0.0.1:{ports['redis-1']}/0",
    }  # fmt: skip
    setup = "from django.core.management import call_command\n" + "\n".join(
        f"call_command({command!r}, verbosity=0)"
        for command in ("migrate", "seed_levels", "seed_permissions")
    )
    _run([python, "manage.py", "shell", "-c", setup], env=direct, cwd=str(REPO))
    progress("migrated and seeded")
    for name in ("sentinel-1", "sentinel-2", "sentinel-3", "epmd", "haproxy"):
        cluster.ready(name)
    for name in ("app-1", "app-2", "worker-1", "worker-2"):
        cluster.spawn(name)
    cluster.ready("rabbitmq", 180)
    progress("RabbitMQ up")
    for name in ("app-1", "app-2"):
        cluster.ready(name, 120)
    wait_for(lambda: Cluster._http_ok(ports["http"], "/api/v2/health/alive"), 30, "HAProxy → app")
    progress("HAProxy → gunicorn nodes up")
    return cluster


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
