"""``manage.py roles_table``: the role tables of docs/operations.md, from the one declaration."""

from django.core.management.base import BaseCommand

from permissions.role_table import roles_table


class Command(BaseCommand):
    help = "Print the markdown tables of what each operator role may do (docs/operations.md)."

    def handle(self, *args, **options):
        self.stdout.write(roles_table())
