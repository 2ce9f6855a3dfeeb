"""Before the bulk load: a superadmin (the operator every measured request acts as) and
the password hash every generated user shares. Prints the hash for ``load.sql``."""

import os
import sys
from pathlib import Path

import django

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "barong.settings")
django.setup()

from django.contrib.auth.hashers import make_password  # noqa: E402

from accounts.services import superuser_create  # noqa: E402

OPERATOR = "bench-operator@example.com"
PASSWORD = "Bench-Correct-Horse-9"  # noqa: S105 -- a throwaway benchmark account

superuser_create(email=OPERATOR, password=PASSWORD)
print(make_password(PASSWORD))
