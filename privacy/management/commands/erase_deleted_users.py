"""``manage.py erase_deleted_users [--dry-run] [--uid UID]``: the periodic erasure, by hand."""

from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from privacy.erasure import user_personal_data_erase, users_erase_due, users_erasure_due


class Command(BaseCommand):
    help = "Erase personal data of users deleted more than BARONG_ERASURE_DELAY_DAYS ago."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="only list who is due")
        parser.add_argument("--uid", help="erase this deleted user now, whatever the delay")

    def handle(self, *args, **options):
        if options["uid"]:
            user = User.objects.filter(uid=options["uid"].upper()).first()
            if user is None:
                raise CommandError(f"no user {options['uid']}")
            try:
                user_personal_data_erase(user=user)
            except ValueError as exc:
                raise CommandError(str(exc)) from exc
            self.stdout.write(f"erased {user.uid}")
            return
        if options["dry_run"]:
            for uid in users_erasure_due().values_list("uid", flat=True):
                self.stdout.write(uid)
            return
        self.stdout.write(f"erased {users_erase_due(limit=10**9)} user(s)")
