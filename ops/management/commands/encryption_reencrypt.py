"""``manage.py encryption_reencrypt``: the second step of rotating BARONG_ENCRYPTION_KEY.

With the new key in ``BARONG_ENCRYPTION_KEY`` and the old one in
``BARONG_ENCRYPTION_KEYS_PREVIOUS``, every TOTP seed and API-key secret is sealed again
under the new key, so the old one can then be removed (docs/operations.md, "The
encryption key"). Idempotent and safe to interrupt: a second run moves only what the
first did not. Prints counts, never a secret.
"""

from django.core.management.base import BaseCommand, CommandError

from accounts.services.otp import otp_seeds_reencrypt
from apikeys.services import api_key_secrets_reencrypt


class Command(BaseCommand):
    help = (
        "Seal every TOTP seed and API-key secret again under BARONG_ENCRYPTION_KEY (after"
        " moving the old key to BARONG_ENCRYPTION_KEYS_PREVIOUS)."
    )

    def handle(self, *args, **options) -> None:
        results = {
            "TOTP seeds": otp_seeds_reencrypt(),
            "API-key secrets": api_key_secrets_reencrypt(),
        }
        for name, counts in results.items():
            self.stdout.write(
                f"{name}: {counts['reencrypted']} re-encrypted, {counts['current']} already"
                f" under the current key, {counts['unreadable']} that no key opens"
            )
        unreadable = sum(counts["unreadable"] for counts in results.values())
        if unreadable:
            raise CommandError(
                f"{unreadable} secrets open under no key of BARONG_ENCRYPTION_KEY and"
                " BARONG_ENCRYPTION_KEYS_PREVIOUS: keep the previous keys until they are"
                " accounted for"
            )
