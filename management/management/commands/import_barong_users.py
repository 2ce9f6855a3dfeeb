"""``manage.py import_barong_users FILE``: move a Barong user table over (management/importing)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from activities.rollup import metrics_rollup
from management.importing import (
    ExportError,
    ImportReport,
    barong_batch_import,
    barong_referrals_link,
    batches,
    export_read,
    summary_text,
)


class Command(BaseCommand):
    help = (
        "Import Barong users (CSV or JSON export, with labels, profiles and phones) keeping "
        "their uids and bcrypt passwords; idempotent, one transaction per batch."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", type=Path, help="users export: .json, or .csv of the table")
        parser.add_argument("--labels", type=Path, help="CSV of the labels table")
        parser.add_argument("--profiles", type=Path, help="CSV of the profiles table")
        parser.add_argument("--phones", type=Path, help="CSV of the phones table")
        parser.add_argument("--batch-size", type=int, default=500)
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args, **options) -> None:
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1")
        try:
            tables = {name: options[name] for name in ("labels", "profiles", "phones")}
            records = export_read(
                Path(options["file"]),
                **{name: Path(value) if value else None for name, value in tables.items()},
            )
        except ExportError as exc:
            raise CommandError(str(exc)) from exc
        report = ImportReport()
        with tqdm(
            total=len(records),
            unit="user",
            disable=options["no_progress"],
            file=self.stderr._out,
        ) as progress:
            for batch in batches(records, options["batch_size"]):
                barong_batch_import(records=batch, report=report)
                progress.update(len(batch))
        barong_referrals_link(records=records, report=report)
        self.stdout.write(summary_text(report))
        # The upgrade's first metrics roll-up (activities/rollup.py), not an hour later.
        days = metrics_rollup()
        self.stdout.write(f"metrics: {days} days rolled up")
