"""What the Makefile's targets run, read from ``make -n`` (nothing is installed or started).

A first ``make run`` installs only what serving needs; the test tools come with the
targets that use them. ``make serve`` serves as docs/operations.md recommends, on HOST
and PORT.
"""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TEST_TOOLS = ("pytest", "playwright", "schemathesis", "hypothesis", "ruff", "import-linter")

pytestmark = pytest.mark.skipif(not shutil.which("make"), reason="needs GNU make")


@pytest.fixture
def clone(tmp_path) -> Path:
    """The files make reads, as a fresh clone has them: no .venv yet."""
    for name in ("Makefile", "requirements.txt", "requirements-dev.txt"):
        shutil.copy(ROOT / name, tmp_path / name)
    return tmp_path


def dry_run(where: Path, *args: str, **env: str) -> list[str]:
    """The commands ``make`` would run, one per line."""
    # Under `make test` the parent's MAKEFLAGS and MAKELEVEL would reach this make too.
    outer = ("PORT", "HOST", "MAKEFLAGS", "MAKELEVEL", "MFLAGS")
    environment = {k: v for k, v in os.environ.items() if k not in outer}
    result = subprocess.run(  # noqa: S603
        ["make", "-n", "--no-print-directory", *args],  # noqa: S607
        cwd=where,
        env={**environment, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout.splitlines()


def installs(commands: list[str]) -> list[str]:
    """The requirement files the commands install."""
    return [
        found
        for line in commands
        if "pip install" in line
        for found in re.findall(r"-r (\S+)", line)
    ]


@pytest.mark.parametrize("target", ["run", "serve", "worker", "demo", "install"])
def test_serving_targets_install_only_what_serving_needs(clone, target):
    commands = dry_run(clone, target)
    assert installs(commands) == ["requirements.txt"]
    assert commands[0] == "python3 -m venv --without-pip .venv"


@pytest.mark.parametrize("target", [".venv", "test", "lint", "schemathesis", "mailsink"])
def test_development_targets_install_the_test_tools(clone, target):
    """CI runs `make .venv`, then lint, test and schemathesis: they need requirements-dev.txt."""
    assert installs(dry_run(clone, target)) == ["requirements-dev.txt"]


def test_serving_needs_no_test_tool():
    names = {
        re.split(r"[=<>\[ ]", line.strip(), maxsplit=1)[0].lower()
        for line in (ROOT / "requirements.txt").read_text().splitlines()
        if line.strip() and not line.startswith(("#", "-"))
    }
    assert names.isdisjoint(TEST_TOOLS)
    dev = (ROOT / "requirements-dev.txt").read_text()
    assert "-r requirements.txt" in dev
    assert all(tool in dev for tool in TEST_TOOLS if tool != "hypothesis")  # schemathesis' own


def _gunicorn(commands: list[str]) -> str:
    (line,) = [line for line in commands if "gunicorn barong.wsgi:application" in line]
    return line


def test_make_serve_uses_the_recommended_configuration_on_host_and_port():
    commands = dry_run(ROOT, "serve", "HOST=0.0.0.0", "PORT=8123")
    line = _gunicorn(commands)
    assert "-c ops/gunicorn_conf.py" in line
    assert line.endswith("-b 0.0.0.0:8123")
    # Static files are collected before gunicorn starts: WhiteNoise serves them.
    collect = [i for i, cmd in enumerate(commands) if "manage.py collectstatic" in cmd]
    assert collect
    assert collect[0] < commands.index(line)


def test_make_serve_reads_port_and_host_from_the_environment():
    line = _gunicorn(dry_run(ROOT, "serve", PORT="9137", HOST="127.0.0.2"))
    assert line.endswith("-b 127.0.0.2:9137")
    assert _gunicorn(dry_run(ROOT, "serve")).endswith("-b 127.0.0.1:8000")


def test_make_run_collects_static_files_and_serves_them_through_whitenoise():
    """``prepare`` migrates, seeds and collects the static files (tests/ops/test_docs.py runs
    it and the server as `make run` does)."""
    commands = dry_run(ROOT, "run", "PORT=8124")
    prepare = next(i for i, cmd in enumerate(commands) if "manage.py prepare" in cmd)
    assert "--no-static" not in commands[prepare]
    runserver = next(i for i, cmd in enumerate(commands) if "manage.py runserver" in cmd)
    assert prepare < runserver
    assert "--insecure" not in commands[runserver]
    assert commands[runserver].rstrip().endswith("127.0.0.1:8124")


def test_the_gunicorn_configuration_is_the_recommended_one(monkeypatch, tmp_path):
    """One-thread gthread workers with keep-alive (docs/operations.md, "Processes to run")."""
    import runpy

    monkeypatch.setenv("BARONG_DATA_DIR", str(tmp_path))
    # Set, then removed: the variable the configuration sets is put back as it was after.
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", "")
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR")
    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    conf = runpy.run_path(str(ROOT / "ops" / "gunicorn_conf.py"))
    assert (conf["worker_class"], conf["threads"], conf["keepalive"]) == ("gthread", 1, 75)
    assert conf["workers"] == (os.cpu_count() or 1)
    metrics = tmp_path / "prometheus"
    assert os.environ["PROMETHEUS_MULTIPROC_DIR"] == str(metrics)
    metrics.mkdir()
    (metrics / "counter_123.db").write_bytes(b"old")
    (metrics / "keep.txt").write_text("not ours")
    conf["on_starting"](None)
    assert sorted(path.name for path in metrics.iterdir()) == ["keep.txt"]
