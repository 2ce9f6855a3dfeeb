"""``manage.py outbox_prune [--days N]``: forget delivered outbox rows older than N days."""

from django.core.management.base import BaseCommand, CommandError

from events.relay import outbox_prune


class Command(BaseCommand):
    help = "Delete delivered outbox rows older than --days (default BARONG_OUTBOX_RETENTION_DAYS)."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=None)

    def handle(self, *args, days=None, **options):
        if days is not None and days < 0:
            raise CommandError("--days must be 0 or more")
        deleted = outbox_prune(days=days)
        self.stdout.write(f"{deleted} delivered outbox rows deleted")
