"""``manage.py seed_permissions [--file F]``: load the permission seeds; re-runs are no-ops."""

from typing import Any

from django.core.management.base import CommandError

from barong.api.errors import ApiError
from barong.seeds import SeedCommand
from permissions.services import permission_upsert


def _flag(value: object) -> bool:
    """``security_lock``: a YAML boolean; anything else is a mistake in the file."""
    if not isinstance(value, bool):
        raise ValueError("security_lock must be true or false")
    return value


class Command(SeedCommand):
    help = "Create the permission rules of a YAML seed file (Barong's defaults if none given)."
    section = "permissions"
    file_setting = "BARONG_SEED_PERMISSIONS_FILE"

    def seed(self, rows: list[Any]) -> int:
        created = 0
        for number, row in enumerate(rows, start=1):
            try:
                _, new = permission_upsert(
                    role=str(row["role"]),
                    verb=str(row["verb"]),
                    path=str(row["path"]),
                    action=str(row["action"]),
                    topic=row.get("topic"),
                    step_up_max_age=row.get("step_up_max_age"),
                    security_lock=_flag(row.get("security_lock", False)),
                )
            except (KeyError, TypeError) as exc:
                raise CommandError(f"permission #{number} needs role, verb, path, action") from exc
            except ValueError as exc:
                raise CommandError(f"permission #{number}: {exc}") from exc
            except ApiError as exc:
                raise CommandError(f"permission #{number}: {', '.join(exc.keys)}") from exc
            created += new
        return created
