"""CPU milliseconds of one password verify with the app's hasher (argon2id, the settings'
parameters): the yardstick of bench/run's CPU per login. Prints one number."""

import os
import sys
import time
from pathlib import Path

import django

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "barong.settings")
django.setup()

from django.contrib.auth.hashers import check_password, make_password  # noqa: E402

ROUNDS = int(sys.argv[1]) if len(sys.argv) > 1 else 40
encoded = make_password("Bench-Correct-Horse-9")
assert encoded.startswith("argon2$argon2id$"), encoded
check_password("Bench-Correct-Horse-9", encoded)
start = time.process_time()
for _ in range(ROUNDS):
    check_password("Bench-Correct-Horse-9", encoded)
print(f"{(time.process_time() - start) / ROUNDS * 1000:.3f}")
