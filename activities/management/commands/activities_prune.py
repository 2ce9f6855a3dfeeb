"""``manage.py activities_prune [--days N]``: apply the activity log's retention now."""

from django.core.management.base import BaseCommand, CommandError

from activities.retention import activities_prune


class Command(BaseCommand):
    help = (
        "Delete activity rows older than --days (default BARONG_ACTIVITY_RETENTION_DAYS; "
        "0 keeps every row), in batches, after the daily metrics are rolled up."
    )

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=None)
        parser.add_argument("--batch", type=int, default=None)

    def handle(self, *args, days=None, batch=None, **options):
        if days is not None and days < 0:
            raise CommandError("--days must be 0 or more")
        if batch is not None and batch < 1:
            raise CommandError("--batch must be 1 or more")
        deleted = activities_prune(days=days, batch=batch)
        self.stdout.write(f"{deleted} activity rows deleted")
