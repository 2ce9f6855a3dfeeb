"""The password rules are Django password validators: the API, the back office and
``manage.py changepassword`` refuse the same passwords, with the same keys."""

import getpass

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from accounts.passwords import password_error
from tests.factories import DEFAULT_PASSWORD

STRONG = "Purple-Kettle-Drum-77"


def _codes(password: str) -> list[str]:
    with pytest.raises(ValidationError) as caught:
        validate_password(password)
    return [error.code for error in caught.value.error_list]


@pytest.mark.parametrize(
    ("password", "key"),
    [
        ("x" * 129, "password.too_long"),
        ("Sh0rt!", "password.requirements"),
        ("password123", "password.weak"),
        ("aaaaaaaaaaaa", "password.weak"),
    ],
)
def test_validators_refuse_with_the_api_keys(password, key):
    assert key in _codes(password)
    assert password_error(password) == key


def test_a_strong_password_passes_every_validator():
    validate_password(STRONG)
    assert password_error(STRONG) is None


def test_the_operators_pattern_is_a_validator_too(settings):
    settings.BARONG_PASSWORD_REGEXP = r"\d.*\d.*\d"

    assert _codes(STRONG) == ["password.requirements"]
    validate_password("Purple-Kettle-Drum-777")


def _changepassword(monkeypatch, email: str, password: str) -> None:
    monkeypatch.setattr(getpass, "getpass", lambda prompt="": password)
    call_command("changepassword", email, stdout=None)


@pytest.mark.django_db
def test_changepassword_refuses_a_weak_password(make_user, monkeypatch, capsys):
    user = make_user()

    with pytest.raises(CommandError, match="Aborting password change"):
        _changepassword(monkeypatch, user.email, "password123")

    assert "password.weak" in capsys.readouterr().err
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD)


@pytest.mark.django_db
def test_changepassword_refuses_a_too_long_password(make_user, monkeypatch):
    user = make_user()

    with pytest.raises(CommandError):
        _changepassword(monkeypatch, user.email, "Aa1-" * 40)

    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD)


@pytest.mark.django_db
def test_changepassword_accepts_a_strong_password(make_user, monkeypatch):
    user = make_user()

    _changepassword(monkeypatch, user.email, STRONG)

    user.refresh_from_db()
    assert user.check_password(STRONG)
