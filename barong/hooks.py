"""Calls from accounts into later apps, resolved through ``settings.BARONG_HOOKS``."""

from functools import cache
from typing import Any

from django.conf import settings
from django.utils.module_loading import import_string


@cache
def _resolve(name: str) -> Any:
    return import_string(settings.BARONG_HOOKS[name])


def hook(name: str) -> Any:
    """The object a later app provides for ``name`` (a function or a serializer class)."""
    return _resolve(name)
