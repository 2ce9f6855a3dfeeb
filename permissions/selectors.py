"""Reads of the permission table shared by services and views."""

from permissions.models import Permission


def role_exists(role: str) -> bool:
    """Roles known to the system are the distinct roles of the permission table (§11.3)."""
    return Permission.objects.filter(role=role).exists()
