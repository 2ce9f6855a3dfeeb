"""``manage.py seed_levels [--file F]``: load the level seeds; re-runs are no-ops."""

import yaml
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts.models import Level
from accounts.services import level_upsert
from barong.api.errors import ApiError


class Command(BaseCommand):
    help = "Create or update the levels of a YAML seed file (Barong's defaults if none given)."

    def add_arguments(self, parser):
        parser.add_argument("--file", default=settings.BARONG_SEED_LEVELS_FILE)

    @transaction.atomic
    def handle(self, *args, **options):
        try:
            with open(options["file"], encoding="utf-8") as handle:
                rows = (yaml.safe_load(handle) or {}).get("levels") or []
        except (OSError, yaml.YAMLError) as exc:
            raise CommandError(f"cannot read {options['file']}: {exc}") from exc
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
        self.stdout.write(f"levels: {created} created, {len(rows) - created} already there")
