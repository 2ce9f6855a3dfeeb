"""Swagger UI and Redoc load nothing from outside the server, and `make run` serves their files
(the whole production mode in Chromium: tests/ops/test_production_mode.py)."""

import os
import re
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from tests.conftest import serving

ROOT = Path(__file__).resolve().parents[2]
PAGES = ["/api/v2/docs/", "/api/v2/redoc/"]
URL_RE = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']""")


def _references(html: str) -> list[str]:
    return URL_RE.findall(html)


@pytest.mark.parametrize("page", PAGES)
def test_doc_pages_reference_only_this_server(client, db, page):
    response = client.get(page)
    assert response.status_code == 200
    html = response.content.decode()
    assert "cdn.jsdelivr" not in html
    assert "googleapis" not in html
    refs = _references(html)
    assert refs, "the page loads its UI from somewhere"
    assert [ref for ref in refs if not ref.startswith("/")] == []
    assert all(not ref.startswith("//") for ref in refs)


def test_schema_url_is_local(client, db):
    html = client.get("/api/v2/docs/").content.decode()
    assert "/api/v2/schema/" in html


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_make_run_server_serves_the_doc_assets(tmp_path):
    """What `make run` starts on a fresh data directory: ``prepare`` (migrate, seeds, static
    files), then ``runserver`` with WhiteNoise serving the hashed files every page names
    (DEBUG off)."""
    port = _free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "REDIS_URL") and not k.startswith(("DJANGO_", "BARONG_"))
    }
    env.update(BARONG_DATA_DIR=str(tmp_path / "var"), BARONG_CACHE="locmem")
    subprocess.run(
        [sys.executable, "manage.py", "prepare", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=300,
    )
    with serving(
        [
            sys.executable,
            "manage.py",
            "runserver",
            "--nostatic",
            "--noreload",
            "--skip-checks",
            f"127.0.0.1:{port}",
        ],
        port=port,
        env=env,
        tries=300,
    ) as base:
        refs = sorted(
            {
                ref
                for page in PAGES
                for ref in _references(requests.get(base + page, timeout=30).text)
            }
        )
        static = [ref for ref in refs if ref.startswith("/static/")]
        assert any("swagger-ui" in ref for ref in static)
        assert any("redoc" in ref for ref in static)
        for ref in static:
            answer = requests.get(base + ref, timeout=10)
            assert answer.status_code == 200, ref
            assert len(answer.content) > 100, ref
            assert "immutable" in answer.headers["Cache-Control"], ref  # hashed names
    with sqlite3.connect(tmp_path / "var" / "db.sqlite3") as database:  # prepare seeded it
        assert database.execute("SELECT count(*) FROM levels").fetchone() == (3,)
        assert database.execute("SELECT count(*) FROM permissions").fetchone()[0] > 100
