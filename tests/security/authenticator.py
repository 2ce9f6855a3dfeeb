"""A software WebAuthn authenticator (P-256, "none" attestation) for the API-level tests.

It builds exactly what a browser hands to ``navigator.credentials`` callers, so the
server's verification runs for real: the browser test drives Chromium's own
virtual authenticator instead.
"""

import hashlib
import json
import secrets
import struct

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from webauthn.helpers import bytes_to_base64url, encode_cbor

FLAGS_UP_UV = 0x01 | 0x04
FLAG_AT = 0x40


class SoftAuthenticator:
    def __init__(self, rp_id: str = "localhost", origin: str = "http://localhost:8000"):
        self.rp_id = rp_id
        self.origin = origin
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.credential_id = secrets.token_bytes(32)
        self.counter = 0

    @property
    def id(self) -> str:
        return bytes_to_base64url(self.credential_id)

    def _cose_key(self) -> bytes:
        numbers = self.key.public_key().public_numbers()
        return encode_cbor(
            {
                1: 2,  # kty EC2
                3: -7,  # ES256
                -1: 1,  # P-256
                -2: numbers.x.to_bytes(32, "big"),
                -3: numbers.y.to_bytes(32, "big"),
            }
        )

    def _client_data(self, kind: str, challenge: str, origin: str | None) -> bytes:
        return json.dumps(
            {"type": kind, "challenge": challenge, "origin": origin or self.origin}
        ).encode()

    def _credential(self, client_data: bytes, **response) -> dict:
        """A PublicKeyCredential in its JSON form: the client data, then ``response``."""
        return {
            "id": self.id,
            "rawId": self.id,
            "type": "public-key",
            "response": {"clientDataJSON": bytes_to_base64url(client_data), **response},
            "clientExtensionResults": {},
        }

    def create(self, options: dict, *, origin: str | None = None) -> dict:
        """The PublicKeyCredential (JSON form) answering registration ``options``."""
        public_key = options["publicKey"]
        client_data = self._client_data("webauthn.create", public_key["challenge"], origin)
        auth_data = (
            hashlib.sha256(self.rp_id.encode()).digest()
            + bytes([FLAGS_UP_UV | FLAG_AT])
            + struct.pack(">I", self.counter)
            + bytes(16)
            + struct.pack(">H", len(self.credential_id))
            + self.credential_id
            + self._cose_key()
        )
        attestation = encode_cbor({"fmt": "none", "attStmt": {}, "authData": auth_data})
        return self._credential(
            client_data,
            attestationObject=bytes_to_base64url(attestation),
            transports=["internal"],
        )

    def get(self, options: dict, *, origin: str | None = None, counter: int | None = None) -> dict:
        """The assertion answering login ``options`` (the counter moves on by one)."""
        self.counter = self.counter + 1 if counter is None else counter
        client_data = self._client_data("webauthn.get", options["publicKey"]["challenge"], origin)
        auth_data = (
            hashlib.sha256(self.rp_id.encode()).digest()
            + bytes([FLAGS_UP_UV])
            + struct.pack(">I", self.counter)
        )
        signature = self.key.sign(
            auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256())
        )
        return self._credential(
            client_data,
            authenticatorData=bytes_to_base64url(auth_data),
            signature=bytes_to_base64url(signature),
            userHandle=None,
        )
