"""``manage.py seed_demo``: an operator and users at every level, so the back-office has work.

Everything goes through the services a real sign-up, phone check, profile and upload
take (activity rows and labels included). Users that exist already are left alone, so
``make demo`` may run twice.
"""

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand, CommandError
from PIL import Image

from accounts.models import User
from accounts.services import label_set, superuser_create, user_create
from barong.api.errors import ApiError
from kyc import services as kyc

PASSWORD = "Demo-Password-2024!"  # noqa: S105 - demo accounts, printed on purpose
OPERATOR = "admin@barong.example"
MOCK_CODE = "12345"  # the mock phone provider's code (kyc/phones.py)
# e-mail, target level, phone number; the pending case is a level-2 user with a document.
USERS = [
    ("level1@barong.example", 1, None),
    ("level2@barong.example", 2, "+14155550102"),
    ("level3@barong.example", 3, "+14155550103"),
    ("pending@barong.example", 2, "+14155550104"),
]


def _scan(name: str) -> SimpleUploadedFile:
    """A small PNG standing in for a passport scan."""
    buffer = io.BytesIO()
    Image.new("RGB", (320, 200), (210, 220, 235)).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


class Command(BaseCommand):
    help = "Seed demo data: an operator, users at levels 1 to 3 and a pending KYC case."

    def handle(self, *args, **options):
        try:
            self._seed()
        except ApiError as exc:
            raise CommandError(f"demo data not seeded: {', '.join(exc.keys)}") from exc

    def _seed(self) -> None:
        if not User.objects.filter(email=OPERATOR).exists():
            superuser_create(email=OPERATOR, password=PASSWORD)
        for email, level, phone in USERS:
            if User.objects.filter(email=email).exists():
                continue
            user = user_create(email=email, password=PASSWORD)
            label_set(user=user, key="email", value="verified", scope="private")
            if phone:
                kyc.phone_create(user=user, phone_number=phone)
                kyc.phone_verify(user=user, phone_number=phone, code=MOCK_CODE)
            if email.startswith("pending") or level == 3:
                name = email.split("@")[0].capitalize()
                kyc.profile_create(
                    user=user,
                    fields={"first_name": name, "last_name": "Demo", "country": "DE"},
                    confirm=True,
                )
                kyc.document_create_many(
                    user=user,
                    doc_type="Passport",
                    doc_number=f"DEMO{level}{len(email)}",
                    doc_expire="2035-01-01",
                    metadata=None,
                    files=[_scan("passport.png")],
                )
            if level == 3:
                label_set(user=user, key="document", value="verified", scope="private")
        self.stdout.write(
            f"demo: operator {OPERATOR} and users level1/level2/level3/pending@barong.example, "
            f"all with password {PASSWORD}"
        )
