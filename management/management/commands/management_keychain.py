"""``manage.py management_keychain``: the keychain entry that checks otp/sign's signature.

Peatio's ``config/management_api_v1.yml`` keeps one public key per signer; the
countersignature otp/sign adds is the signer ``barong``. This prints that entry, ready to
paste under ``keychain:``, for the key otp/sign signs with now (management/keys.py)::

    barong:
      algorithm: RS256
      value: LS0tLS1CRUdJTi...

The same public key is served as a JWK set at ``GET /api/v2/management/jwks``.
"""

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from management.keys import (
    ALGORITHM,
    management_key_source,
    management_keychain_value,
    management_signing_key,
)
from management.services import BARONG_SIGNER


class Command(BaseCommand):
    help = "Print the keychain entry (management_api_v1.yml) for otp/sign's barong signature."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--name", default=BARONG_SIGNER, help="signer name in the keychain (barong)"
        )

    def handle(self, *args, **options) -> None:
        try:
            value = management_keychain_value()
            kid = management_signing_key().kid
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from exc
        source = management_key_source()
        self.stdout.write(f"# otp/sign countersignature: kid {kid}, key: {source}\n")
        self.stdout.write(f"{options['name']}:\n  algorithm: {ALGORITHM}\n  value: {value}\n")
