"""Laying out and starting a fresh cluster (``create``): folders, rendered configuration files,
generated secrets, then every service in dependency order (ops/cluster/topology.py)."""

import base64
import hashlib
import json
import os
import secrets
import shutil
import string
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ops.cluster.probes import free_ports, pid_alive, wait_for
from ops.cluster.topology import HERE, PG_BIN, RABBITMQ_SERVER, REPO, Cluster, Service


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
