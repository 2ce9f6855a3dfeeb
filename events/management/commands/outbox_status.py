"""``manage.py outbox_status [--relay]``: the outbox backlog, optionally after one relay pass."""

import json

from django.core.management.base import BaseCommand

from events.relay import outbox_backlog, outbox_relay_pass


class Command(BaseCommand):
    help = "Print the outbox backlog as JSON; --relay delivers due rows first."

    def add_arguments(self, parser):
        parser.add_argument("--relay", action="store_true", help="run one relay pass first")

    def handle(self, *args, relay=False, **options):
        if relay:
            outbox_relay_pass()
        self.stdout.write(json.dumps(outbox_backlog(), sort_keys=True))
