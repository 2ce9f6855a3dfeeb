"""Barong's bcrypt digests as Django hashes, and the replay store under concurrency."""

import threading
import time

import bcrypt
import pytest
from django.contrib.auth.hashers import check_password, identify_hasher

from accounts.hashers import BarongBcryptHasher, barong_digest_encoded, barong_digest_valid
from management.verification import VerificationFailed, management_call_verify

HASHERS = ["accounts.hashers.BarongArgon2Hasher", "accounts.hashers.BarongBcryptHasher"]


def _ruby_digest(password: bytes) -> str:
    return bcrypt.hashpw(password, bcrypt.gensalt(4)).decode().replace("$2b$", "$2a$")


def test_barong_digest_checks_and_asks_for_an_upgrade(settings):
    settings.PASSWORD_HASHERS = HASHERS
    encoded = barong_digest_encoded(_ruby_digest(b"Old-Barong-Pass-1"))
    assert isinstance(identify_hasher(encoded), BarongBcryptHasher)
    upgraded = []
    assert check_password("Old-Barong-Pass-1", encoded, setter=upgraded.append)
    assert upgraded == ["Old-Barong-Pass-1"]  # Django re-hashes it with the preferred hasher
    assert not check_password("old-barong-pass-1", encoded)
    assert not check_password("", encoded)


def test_passwords_longer_than_72_bytes_compare_as_ruby_did(settings):
    """Ruby's bcrypt used the first 72 bytes only; bcrypt 5 would refuse the rest."""
    settings.PASSWORD_HASHERS = HASHERS
    long_password = "é" * 40  # 80 bytes
    encoded = barong_digest_encoded(_ruby_digest(long_password.encode()[:72]))
    assert check_password(long_password, encoded)
    assert check_password(long_password + "anything", encoded)


@pytest.mark.parametrize(
    "digest",
    ["", "plain", "$2a$12$short", "$2a$99$" + "a" * 53, "$1$salt$hash", "$2a$04$" + "!" * 53],
)
def test_only_bcrypt_digests_are_accepted(digest):
    assert not barong_digest_valid(digest)
    assert not BarongBcryptHasher().verify("x", barong_digest_encoded(digest))


def test_a_token_is_accepted_once_under_concurrency(management_file, sign):
    body = sign({}, "alex")
    results: list[str] = []
    barrier = threading.Barrier(8)

    def attempt() -> None:
        barrier.wait()
        try:
            management_call_verify(body, scope="tools", now=time.time())
            results.append("ok")
        except VerificationFailed as exc:
            results.append(exc.message)

    threads = [threading.Thread(target=attempt) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count("ok") == 1
    assert results.count("Failed to verify JWT.") == 7
