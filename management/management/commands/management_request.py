"""``manage.py management_request SCOPE PATH JSON --key KEYFILE --signer NAME …``.

Signs a management API call the way a back-end service does (one signature per
``--key``/``--signer`` pair, claims iat/exp/jti) and prints a curl command, or sends it
with ``--send URL``. For operators trying the API by hand; the keys stay on their machine.
"""

import json
import shlex
from pathlib import Path
from typing import Any

import requests
from cryptography.hazmat.primitives import serialization
from django.core.management.base import BaseCommand, CommandError

from management.config import pem_decode
from management.jws import algorithm_for_key, jws_generate, payload_make
from management.urls import SCOPES

DEFAULT_BASE = "http://127.0.0.1:8000/api/v2/management/"


def _private_key(path: Path) -> Any:
    """A PEM private key file (or URL-safe base64 of the PEM, as Barong's config holds keys)."""
    try:
        text = Path(path).read_text()
    except OSError as exc:
        raise CommandError(f"{path}: {exc.strerror}") from exc
    try:
        return serialization.load_pem_private_key(pem_decode(text), password=None)
    except (ValueError, TypeError) as exc:
        raise CommandError(f"{path}: not an unencrypted PEM private key") from exc


class Command(BaseCommand):
    help = "Sign a management API call (multisig JWS); print it as curl, or --send it."

    def add_arguments(self, parser) -> None:
        parser.add_argument("scope", help="the endpoint's security scope, e.g. write_labels")
        parser.add_argument("path", help="endpoint path after /management/, e.g. labels")
        parser.add_argument("data", help="the call's parameters as a JSON object")
        parser.add_argument("--key", action="append", default=[], help="private key PEM file")
        parser.add_argument("--signer", action="append", default=[], help="its keychain name")
        parser.add_argument("--algorithm", action="append", default=[])
        parser.add_argument("--method", default="POST", choices=["POST", "PUT"])
        parser.add_argument("--lifetime", type=int, default=60, help="seconds until exp")
        parser.add_argument("--url", default=DEFAULT_BASE, help="base URL for the curl command")
        parser.add_argument("--send", metavar="URL", help="send to this base URL instead")

    def handle(self, *args, **options) -> None:
        path = options["path"].strip("/")
        expected = SCOPES.get((path, options["method"].lower()))
        if expected is None:
            raise CommandError(f"no management endpoint {options['method']} {path}")
        if expected != options["scope"]:
            raise CommandError(f"{options['method']} {path} needs scope {expected}")
        keys, signers = options["key"], options["signer"]
        if not keys or len(keys) != len(signers):
            raise CommandError("give one --signer for each --key (at least one pair)")
        try:
            data = json.loads(options["data"])
        except ValueError as exc:
            raise CommandError("JSON must be a JSON object") from exc
        if not isinstance(data, dict):
            raise CommandError("JSON must be a JSON object")
        algorithms = options["algorithm"] or []
        signing = []
        for index, (key_path, signer) in enumerate(zip(keys, signers, strict=True)):
            key = _private_key(key_path)
            try:
                algorithm = algorithms[index] if index < len(algorithms) else algorithm_for_key(key)
            except ValueError as exc:
                raise CommandError(str(exc)) from exc
            signing.append((signer, key, algorithm))
        body = json.dumps(jws_generate(payload_make(data, lifetime=options["lifetime"]), signing))
        if options["send"]:
            self._send(options["send"], path, options["method"], body)
            return
        url = options["url"].rstrip("/") + "/" + path
        self.stdout.write(
            f"curl -X {options['method']} -H 'Content-Type: application/json' "
            f"--data {shlex.quote(body)} {shlex.quote(url)}"
        )

    def _send(self, base: str, path: str, method: str, body: str) -> None:
        url = base.rstrip("/") + "/" + path
        try:
            response = requests.request(
                method, url, data=body, headers={"Content-Type": "application/json"}, timeout=30
            )
        except requests.RequestException as exc:
            raise CommandError(f"{url}: {exc}") from exc
        self.stdout.write(f"HTTP {response.status_code}")
        self.stdout.write(response.text)
