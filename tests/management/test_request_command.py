"""``manage.py management_request``: an operator signs a call by hand."""

import io
import json
import shlex
from http import HTTPStatus

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.keys import private_pem


@pytest.fixture
def key_files(tmp_path, signer_keys):
    paths = {}
    for name in ("alex", "eve"):
        key, _ = signer_keys[name]
        path = tmp_path / f"{name}.pem"
        path.write_text(private_pem(key))
        paths[name] = str(path)
    return paths


def _curl_body(output: str) -> str:
    words = shlex.split(output)
    return words[words.index("--data") + 1]


def test_prints_a_curl_command_that_works(api, management_file, key_files, db):
    out = io.StringIO()
    call_command(  # the repeatable flags, as typed on the command line
        "management_request",
        "tools",
        "timestamp",
        "{}",
        "--key",
        key_files["alex"],
        "--signer",
        "alex",
        "--key",
        key_files["eve"],
        "--signer",
        "eve",
        stdout=out,
    )
    assert out.getvalue().startswith("curl -X POST -H 'Content-Type: application/json'")
    assert out.getvalue().strip().endswith("/api/v2/management/timestamp")
    body = json.loads(_curl_body(out.getvalue()))
    assert [s["header"]["kid"] for s in body["signatures"]] == ["alex", "eve"]
    response = api.post(
        "/api/v2/management/timestamp", json.dumps(body), content_type="application/json"
    )
    assert response.status_code == HTTPStatus.OK


def test_put_with_data(api, management_file, key_files, make_user):
    user = make_user()
    out = io.StringIO()
    data = json.dumps({"user_uid": user.uid, "key": "tier", "value": "gold"})
    call_command(
        "management_request",
        "write_labels",
        "labels",
        data,
        key=[key_files["alex"]],
        signer=["alex"],
        method="PUT",
        stdout=out,
    )
    response = api.put(
        "/api/v2/management/labels", _curl_body(out.getvalue()), content_type="application/json"
    )
    assert response.status_code == HTTPStatus.OK
    assert response.json()["value"] == "gold"


def test_send(live_server, management_file, key_files, db):
    out = io.StringIO()
    call_command(
        "management_request",
        "tools",
        "timestamp",
        "{}",
        key=[key_files["alex"]],
        signer=["alex"],
        send=f"{live_server.url}/api/v2/barong/management/",
        stdout=out,
    )
    assert out.getvalue().startswith("HTTP 200")
    assert "timestamp" in out.getvalue()


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        (("tools", "nowhere", "{}"), {}, "no management endpoint"),
        (("write_users", "timestamp", "{}"), {}, "needs scope tools"),
        (("tools", "timestamp", "[1]"), {}, "JSON object"),
        (("tools", "timestamp", "{oops"), {}, "JSON object"),
        (("tools", "timestamp", "{}"), {"signer": ["alex", "eve"]}, "one --signer"),
    ],
)
def test_usage_errors(key_files, args, kwargs, message):
    options = {"key": [key_files["alex"]], "signer": ["alex"], **kwargs}
    with pytest.raises(CommandError, match=message):
        call_command("management_request", *args, **options)


def test_unreadable_key(tmp_path):
    path = tmp_path / "public.pem"
    path.write_text("not a key")
    with pytest.raises(CommandError, match="private key"):
        call_command(
            "management_request", "tools", "timestamp", "{}", key=[str(path)], signer=["x"]
        )
