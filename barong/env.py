"""Typed readers of the environment, for ``barong/settings_parts/`` (the only modules calling them).

A malformed value stops start-up with ``ImproperlyConfigured`` naming the variable, so a
typo in a deployment fails loudly instead of running on a default.
"""

import json
import os
from collections.abc import Callable
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    if not raw.strip().isdigit():
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}")
    return int(raw)


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    """One of ``choices`` (case and surrounding spaces ignored); unset or empty: ``default``.

    Anything else stops start-up: a misspelt value must not run as the default.
    """
    raw = os.environ.get(name)
    value = (raw or "").strip().lower() or default
    if value not in choices:
        allowed = ", ".join(choices[:-1]) + f" or {choices[-1]}"
        raise ImproperlyConfigured(f"{name} must be {allowed}, not {raw!r}")
    return value


def env_json_object(name: str, default: dict) -> dict:
    """A JSON object; unset or empty: ``default``. Anything else stops start-up."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be a JSON object: {exc}") from exc
    if not isinstance(value, dict):
        raise ImproperlyConfigured(f"{name} must be a JSON object, not {raw!r}")
    return value


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


def dev_secret(data_dir: Path, filename: str, make: Callable[[], str]) -> str:
    """A development secret generated once and kept in the data directory."""
    path = data_dir / filename
    if not path.exists():
        path.write_text(make())
        path.chmod(0o600)
    return path.read_text()
