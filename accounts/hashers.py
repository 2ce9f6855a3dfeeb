"""argon2id tuned to OWASP's minimum: 19 MiB, t=2, p=1 (older hashes upgrade on login)."""

from django.contrib.auth.hashers import Argon2PasswordHasher


class BarongArgon2Hasher(Argon2PasswordHasher):
    """argon2id with OWASP's recommended minimum parameters."""

    algorithm = "argon2"
    time_cost = 2
    memory_cost = 19 * 1024
    parallelism = 1
