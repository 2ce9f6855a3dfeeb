"""``manage.py prepare``: migrate, seed levels and permissions, collect static files: one process.

What a server needs before it starts (``make run``, ``make demo``): the same commands an
operator runs one by one on a release (docs/operations.md), called here in one Python
process because loading Django once costs about as much as all of their own work on a
fresh database (a first ``make run`` loaded it four times).
"""

from concurrent.futures import ThreadPoolExecutor

from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Migrate, seed levels and permissions (idempotent), and collect the static files."

    def add_arguments(self, parser):
        parser.add_argument(
            "--no-static",
            action="store_false",
            dest="static",
            help="Leave the static files alone (nothing is served).",
        )

    def handle(self, *args, **options):
        verbosity = options["verbosity"]
        with ThreadPoolExecutor(max_workers=1) as pool:
            # The static files need no database: collected meanwhile, mostly in gzip and
            # file copies that leave the interpreter to the migrations.
            static = (
                pool.submit(call_command, "collectstatic", interactive=False, verbosity=0)
                if options["static"]
                else None
            )
            call_command("migrate", interactive=False, verbosity=verbosity, stdout=self.stdout)
            call_command("seed_levels", verbosity=verbosity, stdout=self.stdout)
            call_command("seed_permissions", verbosity=verbosity, stdout=self.stdout)
            if static is not None:
                static.result()  # its error, if any, is this command's
