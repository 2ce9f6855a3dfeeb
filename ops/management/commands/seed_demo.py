"""``manage.py seed_demo``: an operator and users at every level, so the back-office has work.

Everything goes through the services a real sign-up, phone check, profile and upload
take (activity rows and labels included). Users that exist already are left alone, so
``make demo`` may run twice. The e-mails those steps send would bury the logins on the
console: while seeding, a console mail backend writes to files instead
(``EMAIL_FILE_PATH``), and the logins are printed last.
"""

import io
import logging
from contextlib import contextmanager
from datetime import date

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand, CommandError
from PIL import Image, ImageDraw, ImageFont

from accounts.models import User
from accounts.services import label_set, superuser_create, user_create
from barong.api.errors import ApiError
from kyc import services as kyc

PASSWORD = "Demo-Password-2024!"  # noqa: S105 - demo accounts, printed on purpose
OPERATOR = "admin@barong.example"
MOCK_CODE = "12345"  # the mock phone provider's code (kyc/phones.py)
EXPIRES = date(2035, 1, 1)
# e-mail, target level, phone number, what the back-office shows for it; the pending case is
# a level-2 user with a document.
USERS = [
    ("level1@barong.example", 1, None, "level 1: e-mail confirmed"),
    ("level2@barong.example", 2, "+14155550102", "level 2: phone verified"),
    ("level3@barong.example", 3, "+14155550103", "level 3: documents verified"),
    ("pending@barong.example", 2, "+14155550104", "level 2, passport waiting for review"),
]
CONSOLE_MAIL = "django.core.mail.backends.console.EmailBackend"
FILE_MAIL = "django.core.mail.backends.filebased.EmailBackend"


def _mrz(text: str, width: int = 44) -> str:
    """A machine-readable-zone line: capitals, digits and ``<`` fillers (ICAO 9303)."""
    cleaned = "".join(ch if ch.isascii() and ch.isalnum() else "<" for ch in text.upper())
    return cleaned[:width].ljust(width, "<")


def passport_scan(*, surname: str, given: str, number: str, country: str = "DEU") -> bytes:
    """A PNG that looks like a passport's photo page, marked SPECIMEN.

    Reviewing the demo case should feel like reviewing a real one: a photo, the printed
    fields and the machine-readable lines, in a passport page's proportions (125 by 88 mm).
    """
    width, height = 880, 620
    image = Image.new("RGB", (width, height), (241, 236, 222))
    draw = ImageDraw.Draw(image)
    for y in range(120, 470, 14):  # the security print's fine wavy lines
        draw.line(
            [(x, y + 5 * ((x // 40) % 2)) for x in range(0, width + 40, 40)],
            fill=(226, 218, 200),
            width=1,
        )
    font = ImageFont.load_default

    draw.rectangle([0, 0, width, 84], fill=(32, 62, 104))
    draw.text((28, 14), "PASSPORT", font=font(32), fill=(236, 214, 150))
    draw.text((28, 54), "PASS · PASSEPORT · DEMO REPUBLIC", font=font(16), fill=(220, 226, 236))
    draw.text((width - 120, 26), country, font=font(30), fill=(236, 214, 150))

    # The holder's photo: a grey card with a head and shoulders.
    draw.rounded_rectangle([40, 118, 270, 418], radius=6, fill=(205, 210, 216))
    draw.ellipse([105, 160, 205, 280], fill=(150, 156, 166))
    draw.pieslice([65, 280, 245, 480], 180, 360, fill=(150, 156, 166))
    draw.rectangle([40, 380, 270, 418], fill=(205, 210, 216))

    fields = [
        ("Type", "P", "Country code", country),
        ("Passport No.", number, None, None),
        ("Surname", surname.upper(), None, None),
        ("Given names", given.upper(), None, None),
        ("Nationality", "DEMO", "Sex", "X"),
        ("Date of expiry", EXPIRES.strftime("%d %b %Y").upper(), None, None),
    ]
    y = 112
    for label, value, label2, value2 in fields:
        draw.text((300, y), label, font=font(13), fill=(96, 96, 110))
        draw.text((300, y + 16), value, font=font(22), fill=(20, 20, 30))
        if label2:
            draw.text((560, y), label2, font=font(13), fill=(96, 96, 110))
            draw.text((560, y + 16), value2, font=font(22), fill=(20, 20, 30))
        y += 52

    # The machine-readable zone, one character per fixed cell like the OCR-B print.
    draw.rectangle([0, 480, width, height], fill=(250, 248, 242))
    lines = [
        _mrz(f"P<{country}{surname}<<{given}"),
        _mrz(f"{number}<<0{country}<<<<<<<<X{EXPIRES:%y%m%d}0"),
    ]
    mono = font(26)
    for row, line in enumerate(lines):
        for col, char in enumerate(line):
            draw.text(
                (36 + col * 19, 500 + row * 50), char, font=mono, fill=(25, 25, 25), anchor="ma"
            )

    stamp = Image.new("RGBA", (420, 90), (0, 0, 0, 0))
    ImageDraw.Draw(stamp).text((10, 10), "SPECIMEN", font=font(64), fill=(190, 40, 40, 110))
    stamp = stamp.rotate(18, expand=True)
    image.paste(stamp, (400, 250), stamp)

    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


@contextmanager
def mail_off_the_console():
    """While seeding: a console mail backend writes files instead, and INFO logs are quiet.

    Yields where the e-mails went (a folder, or the backend's name when it is not the
    console's: SMTP to a mail sink, files already, ...).
    """
    backend = settings.EMAIL_BACKEND
    if backend == CONSOLE_MAIL:
        settings.EMAIL_BACKEND = FILE_MAIL
    logging.disable(logging.INFO)
    try:
        yield settings.EMAIL_FILE_PATH if settings.EMAIL_BACKEND == FILE_MAIL else backend
    finally:
        logging.disable(logging.NOTSET)
        settings.EMAIL_BACKEND = backend


class Command(BaseCommand):
    help = "Seed demo data: an operator, users at levels 1 to 3 and a pending KYC case."

    def handle(self, *args, **options):
        try:
            with mail_off_the_console() as mail:
                created = self._seed()
        except ApiError as exc:
            raise CommandError(f"demo data not seeded: {', '.join(exc.keys)}") from exc
        self._logins(created, mail)

    def _seed(self) -> set[str]:
        """The accounts this run created (the others were there already)."""
        created = set()
        if not User.objects.filter(email=OPERATOR).exists():
            superuser_create(email=OPERATOR, password=PASSWORD)
            created.add(OPERATOR)
        for email, level, phone, _ in USERS:
            if User.objects.filter(email=email).exists():
                continue
            user = user_create(email=email, password=PASSWORD)
            created.add(email)
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
                number = f"DEMO{level}{len(email)}"
                scan = passport_scan(surname="Demo", given=name, number=number)
                kyc.document_create_many(
                    user=user,
                    doc_type="Passport",
                    doc_number=number,
                    doc_expire=EXPIRES.isoformat(),
                    metadata=None,
                    files=[SimpleUploadedFile("passport.png", scan, content_type="image/png")],
                )
            if level == 3:
                label_set(user=user, key="document", value="verified", scope="private")
        return created

    def _logins(self, created: set[str], mail: str) -> None:
        """The accounts, last and in plain sight: what someone trying the demo needs."""
        width = max(len(email) for email in [OPERATOR, *(user[0] for user in USERS)])

        def row(email: str, what: str) -> str:
            note = "" if email in created else "  (already there: password unchanged)"
            return f"  {email.ljust(width)}  {what}{note}"

        site = settings.BARONG_DOMAIN.rstrip("/")
        if "://" not in site:
            site = f"https://{site}"
        lines = [
            "",
            "Demo data ready. Log in with these accounts:",
            "",
            row(OPERATOR, f"operator (superadmin): the back-office at {site}/admin/"),
            *(row(email, what) for email, _, _, what in USERS),
            "",
            f"  password of every demo account: {PASSWORD}",
            "",
            "The demo's e-mails were not printed: "
            + (
                f"they went to {mail}."
                if settings.CELERY_TASK_ALWAYS_EAGER
                else "the Celery worker sends them (make worker)."
            ),
        ]
        self.stdout.write("\n".join(lines))
