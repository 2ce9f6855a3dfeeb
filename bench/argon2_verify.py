"""CPU milliseconds of one password verify with the app's hasher (argon2id, the settings'
parameters): the yardstick of bench/run's CPU per login. Prints one number.

    argon2_verify.py [ROUNDS] [PROCESSES]

With PROCESSES > 1, that many processes verify at the same time and the number is the
mean CPU per verify over all of them. bench/run measures logins with its gunicorn
workers busy at once, and argon2id is memory-bound (19 MiB per verify): two verifies
running together on two cores share the memory bandwidth and the last-level cache, and
each costs 10-20 % more CPU than one alone on a quiet machine. The yardstick is taken
under the same concurrency as what it is compared with (docs/BENCHMARKS.md).
"""

import multiprocessing
import os
import sys
import time
from pathlib import Path

import django

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "barong.settings")
django.setup()

from django.contrib.auth.hashers import check_password, make_password  # noqa: E402

PASSWORD = "Bench-Correct-Horse-9"  # noqa: S105 -- a throwaway benchmark password


def verify_ms(encoded: str, rounds: int) -> float:
    check_password(PASSWORD, encoded)
    start = time.process_time()
    for _ in range(rounds):
        check_password(PASSWORD, encoded)
    return (time.process_time() - start) / rounds * 1000


def _child(args: tuple[str, int]) -> float:
    return verify_ms(*args)


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 40
    processes = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    encoded = make_password(PASSWORD)
    assert encoded.startswith("argon2$argon2id$"), encoded
    if processes <= 1:
        print(f"{verify_ms(encoded, rounds):.3f}")
        return
    with multiprocessing.get_context("fork").Pool(processes) as pool:
        results = pool.map(_child, [(encoded, rounds)] * processes)
    print(f"{sum(results) / len(results):.3f}")


if __name__ == "__main__":
    main()
