"""Start-up configuration: known BARONG_ENV values, one clear line on errors, seed wording."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

ROOT = Path(__file__).resolve().parents[2]


def manage(tmp_path, *args: str, **env: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("BARONG_", "DJANGO_"))}
    environment.update(BARONG_DATA_DIR=str(tmp_path / "var"), **env)
    return subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def refused(tmp_path, **env: str) -> list[str]:
    """``manage.py check`` under ``env`` fails; the lines it wrote to stderr."""
    result = manage(tmp_path, "check", **env)
    assert result.returncode != 0
    return result.stderr.strip().splitlines()


@pytest.mark.parametrize("value", ["prod", "Production2", "staging"])
def test_an_unknown_barong_env_refuses_to_start(tmp_path, value):
    assert refused(tmp_path, BARONG_ENV=value) == [
        f"configuration error: BARONG_ENV must be development or production, not {value!r}"
    ]


def test_production_names_the_missing_variables_in_one_line(tmp_path):
    result = manage(tmp_path, "check", BARONG_ENV="production")
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "DJANGO_SECRET_KEY" in lines[0]
    assert "Traceback" not in result.stderr


def test_a_bad_number_is_one_line(tmp_path):
    assert refused(tmp_path, BARONG_SESSION_EXPIRE_TIME="ten") == [
        "configuration error: BARONG_SESSION_EXPIRE_TIME must be a whole number, not 'ten'"
    ]


@pytest.mark.parametrize("value", ["nginx", "cloudfare"])
def test_an_unknown_gateway_refuses_to_start(tmp_path, value):
    """Barong knows two gateways; a typo must not run as the default (cloudflare)."""
    assert refused(tmp_path, BARONG_GATEWAY=value) == [
        f"configuration error: BARONG_GATEWAY must be cloudflare or akamai, not {value!r}"
    ]


def test_the_gateway_is_read_without_case_or_spaces(tmp_path):
    code = "from django.conf import settings; print(settings.BARONG_GATEWAY)"
    result = manage(tmp_path, "shell", "-c", code, BARONG_GATEWAY=" Akamai ")
    assert (result.returncode, result.stdout.split()[-1]) == (0, "akamai"), result.stderr


def test_seed_levels_says_what_it_did(db, capsys, tmp_path):
    seeds = tmp_path / "levels.yml"
    seeds.write_text(
        "levels:\n"
        "  - {id: 3, key: document, value: verified}\n"
        "  - {id: 4, key: address, value: verified}\n"
    )
    call_command("seed_levels", file=str(seeds))  # level 3 is seeded already, 4 is new
    assert capsys.readouterr().out.strip() == "levels: 1 created, 1 already there"
    call_command("seed_levels", file=str(seeds))
    assert capsys.readouterr().out.strip() == "levels: 0 created, 2 already there"


def test_seed_demo_fills_the_back_office(db, capsys):
    from accounts.models import User
    from kyc.models import Document

    call_command("seed_demo")
    call_command("seed_demo")  # a second run changes nothing
    levels = dict(User.objects.values_list("email", "level"))
    assert levels == {
        "admin@barong.example": 1,
        "level1@barong.example": 1,
        "level2@barong.example": 2,
        "level3@barong.example": 3,
        "pending@barong.example": 2,
    }
    assert User.objects.get(email="admin@barong.example").role == "superadmin"
    pending = User.objects.get(email="pending@barong.example")
    assert pending.labels.get(key="document", scope="private").value == "pending"
    assert Document.objects.filter(user=pending).count() == 1
    assert "Demo-Password-2024!" in capsys.readouterr().out
