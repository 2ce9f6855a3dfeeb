"""CPU cost per call of minting and verifying one session JWT, each way the code could.

The authz endpoint mints a JWT for a session or key (reused briefly, permissions/authz.py
``token_for``), and every Bearer call on the API verifies one. This times, in one process
on the development key (CPU time, best of five rounds): minting through PyJWT, through
simplejwt's ``TokenBackend.encode`` and through barong/jose.py's ``compact_sign``;
verifying through PyJWT and through simplejwt's ``TokenBackend.decode``; and
barong/jwt.py's ``encode`` and ``decode`` as the code calls them.
Run: ``PYTHONPATH=. .venv/bin/python bench/jwt_mint.py [calls]`` (docs/BENCHMARKS.md).
"""

import os
import secrets
import sys
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "barong.settings")
django.setup()

import jwt  # noqa: E402
from django.conf import settings  # noqa: E402
from rest_framework_simplejwt.backends import TokenBackend  # noqa: E402

from barong import jose  # noqa: E402
from barong import jwt as barong_jwt  # noqa: E402


def claims() -> dict:
    now = int(time.time())
    return {
        "uid": "ID1234567890",
        "email": "bench@example.com",
        "role": "member",
        "level": 3,
        "state": "active",
        "referral_id": None,
        "sid": secrets.token_hex(16),
        "iat": now,
        "exp": now + 3600,
        "sub": "session",
        "iss": settings.JWT_ISSUER,
        "aud": settings.JWT_AUDIENCE,
        "jti": secrets.token_hex(10),
    }


def per_call(function, calls: int, rounds: int = 5) -> float:
    """CPU µs per call, the best of ``rounds`` (a shared machine's noise only adds)."""
    for _ in range(min(200, calls)):
        function()
    best = float("inf")
    for _ in range(rounds):
        start = time.process_time()
        for _ in range(calls // rounds):
            function()
        best = min(best, (time.process_time() - start) / (calls // rounds) * 1e6)
    return best


def main(calls: int) -> None:
    pair = barong_jwt.signing_key()
    backend = TokenBackend(
        "RS256",
        signing_key=pair.private_key,
        verifying_key=pair.public_key,
        audience=settings.JWT_AUDIENCE,
        issuer=settings.JWT_ISSUER,
        leeway=settings.JWT_LEEWAY,
    )
    payload = claims()
    signer = jose.Signer(pair.private_key, "RS256", protected={"typ": "JWT", "kid": pair.kid})
    token = barong_jwt.encode({"uid": "ID1", "sid": "x"}, sub="session")
    public = pair.public_key
    rows = {
        "mint: PyJWT jwt.encode (kid header)": lambda: jwt.encode(
            payload, pair.private_key, algorithm="RS256", headers={"kid": pair.kid}
        ),
        "mint: simplejwt TokenBackend.encode (no kid)": lambda: backend.encode(payload),
        "mint: barong.jose.compact_sign (kid header)": lambda: jose.compact_sign(payload, signer),
        "mint: barong.jwt.encode (as called by authz)": lambda: barong_jwt.encode(
            {"uid": "ID1", "sid": "x"}, sub="session"
        ),
        "verify: PyJWT jwt.decode": lambda: jwt.decode(
            token,
            public,
            algorithms=["RS256"],
            audience=settings.JWT_AUDIENCE,
            issuer=settings.JWT_ISSUER,
            leeway=settings.JWT_LEEWAY,
        ),
        "verify: simplejwt TokenBackend.decode": lambda: backend.decode(token),
        "verify: barong.jwt.decode (as called by the API)": lambda: barong_jwt.decode(
            token, sub="session"
        ),
    }
    for name, function in rows.items():
        print(f"{name:52} {per_call(function, calls):8.1f} µs/call")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)
