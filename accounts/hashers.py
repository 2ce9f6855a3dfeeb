"""argon2id tuned to OWASP's minimum: 19 MiB, t=2, p=1 (older hashes upgrade on login)."""

import re

from django.contrib.auth.hashers import Argon2PasswordHasher, BCryptPasswordHasher
from django.utils.crypto import constant_time_compare

BCRYPT_RE = re.compile(r"\A\$2[abxy]\$(0[4-9]|[12][0-9]|3[01])\$[./A-Za-z0-9]{53}\Z")


class BarongArgon2Hasher(Argon2PasswordHasher):
    """argon2id with OWASP's recommended minimum parameters."""

    algorithm = "argon2"
    time_cost = 2
    memory_cost = 19 * 1024
    parallelism = 1


class BarongBcryptHasher(BCryptPasswordHasher):
    """Barong's ``password_digest`` (Ruby bcrypt, ``$2a$…``), kept only until the next login.

    Stored as ``barong_bcrypt$<digest>``. Ruby's bcrypt hashed only the first 72 bytes of a
    password, so the same cut is made here (bcrypt 5 refuses longer input instead). It is
    never the preferred hasher: a successful login re-hashes the password with argon2id.
    """

    algorithm = "barong_bcrypt"
    digest = None

    def encode(self, password: str, salt: bytes | str) -> str:
        import bcrypt

        salt_bytes = salt.encode("ascii") if isinstance(salt, str) else salt
        hashed = bcrypt.hashpw(password.encode()[:72], salt_bytes)
        return f"{self.algorithm}${hashed.decode('ascii')}"

    def verify(self, password: str, encoded: str) -> bool:
        algorithm, data = encoded.split("$", 1)
        if algorithm != self.algorithm or not BCRYPT_RE.match(data):
            return False
        return constant_time_compare(self.encode(password, data), encoded)

    def must_update(self, encoded: str) -> bool:
        return True


def barong_digest_valid(digest: str) -> bool:
    """A bcrypt digest as Barong stored it: ``$2a$``/``$2b$``/``$2y$``, cost, 53 characters."""
    return bool(BCRYPT_RE.match(digest))


def barong_digest_encoded(digest: str) -> str:
    """The stored form of an imported Barong digest (see ``BarongBcryptHasher``)."""
    return f"{BarongBcryptHasher.algorithm}${digest}"
