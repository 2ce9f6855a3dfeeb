"""``manage.py seed_*``: load one section of a YAML seed file in one transaction."""

import abc
from typing import Any

import yaml
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction


class SeedCommand(BaseCommand, abc.ABC):
    """Reads ``--file`` (``settings.<file_setting>`` by default), hands the rows of its
    ``section`` to ``seed`` and reports how many were new; re-runs are no-ops. A command
    that does not say how to store its rows cannot be made (``seed`` is abstract)."""

    section: str
    file_setting: str

    def add_arguments(self, parser):
        parser.add_argument("--file", default=getattr(settings, self.file_setting))

    @transaction.atomic
    def handle(self, *args, **options):
        try:
            with open(options["file"], encoding="utf-8") as handle:
                rows = (yaml.safe_load(handle) or {}).get(self.section) or []
        except (OSError, yaml.YAMLError) as exc:
            raise CommandError(f"cannot read {options['file']}: {exc}") from exc
        created = self.seed(rows)
        self.stdout.write(f"{self.section}: {created} created, {len(rows) - created} already there")

    @abc.abstractmethod
    def seed(self, rows: list[Any]) -> int:
        """Create or keep each row through its service; returns how many were created."""
