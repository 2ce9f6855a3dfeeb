"""Write ``count`` signed (nonce, signature) pairs for one API key, one pair per line.

HMAC-SHA256 per request in wrk's Lua would cost the load generator more than the
server; the pairs are made up front with distinct nonces starting now (plus an optional
offset, so two files never share a nonce), and the server
runs with a nonce window long enough to cover the whole run (docs/BENCHMARKS.md).
"""

import hashlib
import hmac
import sys
import time


def main(kid: str, secret: str, count: int, path: str, offset_ms: int = 0) -> None:
    start = int(time.time() * 1000) + offset_ms
    key = secret.encode()
    with open(path, "w", encoding="ascii") as out:
        for offset in range(count):
            nonce = str(start + offset)
            digest = hmac.new(key, (nonce + kid).encode(), hashlib.sha256).hexdigest()
            out.write(f"{nonce} {digest}\n")


if __name__ == "__main__":
    offset = int(sys.argv[5]) if len(sys.argv) > 5 else 0
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], offset)
