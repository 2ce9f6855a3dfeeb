"""``manage.py user_id_blocks_rebuild``: count the users per id block again.

Needed only after users were loaded with PostgreSQL triggers off (a bulk load under
``session_replication_role = replica``, ``pg_restore --disable-triggers``); the trigger
keeps the counts otherwise (docs/operations.md).
"""

from django.core.management.base import BaseCommand

from accounts.services import user_id_blocks_rebuild


class Command(BaseCommand):
    help = "Recount the users per id block that page the admin user list (PostgreSQL)."

    def handle(self, *args, **options):
        counted = user_id_blocks_rebuild()
        self.stdout.write(f"{counted} users counted")
