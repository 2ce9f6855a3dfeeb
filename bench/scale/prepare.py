"""Before the bulk load: a superadmin (the operator every measured request acts as) and
the Barong ``password_digest`` every generated user shares (Ruby bcrypt, ``$2a$``, cost
10, stored as an imported digest is: accounts/hashers.py). Prints the stored form for
``load.sql``."""

import os
import sys
from pathlib import Path

import bcrypt
import django

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "barong.settings")
django.setup()

from accounts.hashers import barong_digest_encoded  # noqa: E402
from accounts.services import superuser_create  # noqa: E402

OPERATOR = "bench-operator@example.com"
PASSWORD = "Bench-Correct-Horse-9"  # noqa: S105 -- a throwaway benchmark account

superuser_create(email=OPERATOR, password=PASSWORD)
digest = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=10)).decode("ascii")
print(barong_digest_encoded(digest.replace("$2b$", "$2a$", 1)))
