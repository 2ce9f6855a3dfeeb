"""``manage.py seed_levels [--file F]``: load the level seeds; re-runs are no-ops."""

from typing import Any

from django.core.management.base import CommandError

from accounts.models import Level
from accounts.services import level_upsert
from barong.api.errors import ApiError
from barong.seeds import SeedCommand


class Command(SeedCommand):
    help = "Create or update the levels of a YAML seed file (Barong's defaults if none given)."
    section = "levels"
    file_setting = "BARONG_SEED_LEVELS_FILE"

    def seed(self, rows: list[Any]) -> int:
        existing = set(Level.objects.values_list("pk", flat=True))
        created = 0
        for number, row in enumerate(rows, start=1):
            try:
                created += int(row["id"]) not in existing
                level_upsert(
                    id=int(row["id"]),
                    key=str(row["key"]),
                    value=str(row["value"]),
                    description=str(row.get("description") or row["key"]),
                )
            except (KeyError, TypeError, ValueError) as exc:
                raise CommandError(f"level #{number} needs id, key, value") from exc
            except ApiError as exc:
                raise CommandError(f"level #{number}: {', '.join(exc.keys)}") from exc
        return created
