"""Reads of the permission and restriction tables shared by services and views."""

from permissions.models import Permission


def role_exists(role: str) -> bool:
    """Roles known to the system are the distinct roles of the permission table."""
    return Permission.objects.filter(role=role).exists()
