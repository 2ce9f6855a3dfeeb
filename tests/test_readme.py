"""The README's "Five minutes with curl" runs as written against a live server: sign-up to
phone, the gateway's JWT, 2FA with codes computed in the shell, an API key and a request
signed with it."""

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from accounts.models import User
from apikeys.models import APIKey

README = Path(__file__).resolve().parents[1] / "README.md"
SECTION = "## Five minutes with curl"
BLOCK_RE = re.compile(r"```sh\n(.*?)```", re.DOTALL)

pytestmark = pytest.mark.skipif(
    not (shutil.which("curl") and shutil.which("bash")), reason="needs curl and bash"
)


def walkthrough_steps() -> list[str]:
    """The section's shell blocks, except the one that starts the server."""
    text = README.read_text()
    section = text.split(SECTION, 1)[1].split("\n## ", 1)[0]
    return [block for block in BLOCK_RE.findall(section) if "make run" not in block]


def test_the_readme_has_the_steps():
    script = "\n".join(walkthrough_steps())
    for needle in (
        "/identity/users",
        "/identity/users/email/confirm_code",
        "X-CSRF-Token",
        "12345",
        "/auth/api/v2/barong/",
        "Authorization: Bearer $JWT",
        "/resource/otp/enable",
        "/resource/api_keys",
        "X-Auth-Signature",
        "openssl dgst -sha256 -hmac",
    ):
        assert needle in script


def test_the_walkthrough_works(live_server, transactional_db, settings, tmp_path):
    mail = tmp_path / "var" / "mail"
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = str(mail)
    settings.BARONG_DOMAIN = live_server.url
    script = "\n".join(walkthrough_steps()).replace("http://127.0.0.1:8000", live_server.url)
    result = subprocess.run(  # noqa: S603
        ["bash", "-euo", "pipefail", "-c", script],  # noqa: S607
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[0] == "pending"  # signed up
    assert lines[1] == "active"  # confirmed with the e-mail's token
    assert json.loads(lines[2]) == {"message": "Code was sent successfully via sms"}
    assert json.loads(lines[3])["level"] == 2  # the phone is verified
    claims = json.loads(lines[4])  # the gateway's JWT, decoded
    assert claims["email"] == "ada@example.com"
    assert claims["level"] == 2
    assert lines[5] == "2"  # the upstream call with the JWT
    assert lines[6] == "201"  # 2FA on, with a code the shell computed
    user = User.objects.get(email="ada@example.com")
    assert user.otp
    kid = lines[7]  # the API key, created with the next step's code
    assert APIKey.objects.get(kid=kid).user == user
    key_claims = json.loads(lines[8])  # the signed request's JWT, decoded
    assert (key_claims["uid"], key_claims["email"]) == (user.uid, "ada@example.com")
    assert len(lines) == 9
    assert f"{live_server.url}/accounts/confirmation?confirmation_token=" in "".join(
        path.read_text() for path in mail.iterdir()
    )
