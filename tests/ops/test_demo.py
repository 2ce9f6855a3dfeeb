"""``make demo`` (``manage.py seed_demo``): its e-mails stay off the console, the logins come last,
and the pending case's scan looks like a passport page."""

import io

import pytest
from django.core.management import call_command
from PIL import Image

from kyc.models import Document
from ops.management.commands.seed_demo import OPERATOR, PASSWORD

USERS = ["level1@barong.example", "level2@barong.example", "level3@barong.example"]
USERS += ["pending@barong.example"]


@pytest.fixture
def console_mail(settings, tmp_path):
    """The development default: e-mail printed to the console."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
    settings.EMAIL_FILE_PATH = str(tmp_path / "mail")
    return tmp_path / "mail"


def test_demo_mail_stays_off_the_console_and_the_logins_come_last(
    transactional_db, capsys, console_mail, settings
):
    """Real commits, as ``make demo`` makes them: each one sends its e-mails right away."""
    call_command("seed_demo")
    out, err = capsys.readouterr()

    for mail_text in ("Subject:", "Content-Type:", "Hello!", "confirmation_token"):
        assert mail_text not in out + err
    assert " INFO " not in err  # nor the worker's log lines about them
    sent = list(console_mail.iterdir())
    assert sent, "the demo's e-mails went to files"
    assert "Subject:" in sent[0].read_text()
    # Settings are back as they were once the command is done.
    assert settings.EMAIL_BACKEND == "django.core.mail.backends.console.EmailBackend"

    lines = out.rstrip().splitlines()
    tail = "\n".join(lines[-12:])  # the last screen: every login and the password
    assert OPERATOR in tail
    assert f"{settings.BARONG_DOMAIN}/admin/" in tail
    for email in USERS:
        assert email in tail
    assert f"password of every demo account: {PASSWORD}" in tail
    assert str(console_mail) in lines[-1]


def test_a_second_run_says_which_accounts_were_there(db, capsys, console_mail):
    call_command("seed_demo")
    capsys.readouterr()
    call_command("seed_demo")
    out = capsys.readouterr().out
    assert out.count("already there: password unchanged") == 1 + len(USERS)


def _ink(image: Image.Image, box: tuple[int, int, int, int]) -> float:
    """The share of dark pixels in ``box``: printed text, not an empty card."""
    region = image.convert("L").crop(box)
    dark = region.point(lambda value: 255 if value < 110 else 0).histogram()[255]
    return dark / (region.width * region.height)


def test_the_demo_scan_looks_like_a_passport_page(db, console_mail):
    call_command("seed_demo")
    document = Document.objects.get(user__email="pending@barong.example")
    with document.upload.open("rb") as upload:
        image = Image.open(io.BytesIO(upload.read()))
    image.load()
    width, height = image.size
    assert width >= 600
    assert 1.35 < width / height < 1.5  # a passport page is 125 by 88 mm
    assert len(image.convert("RGB").getcolors(1 << 16) or range(1 << 16)) > 50
    assert _ink(image, (0, 0, width, height // 6)) > 0.5  # the cover band
    assert 0.005 < _ink(image, (width // 3, height // 6, width, height * 3 // 4)) < 0.4  # fields
    assert 0.02 < _ink(image, (0, height * 4 // 5, width, height)) < 0.4  # the MRZ lines


def test_the_scan_carries_the_document_number_in_its_machine_readable_lines():
    """Two documents differ where their numbers are printed."""
    from ops.management.commands.seed_demo import passport_scan

    one = Image.open(io.BytesIO(passport_scan(surname="Demo", given="Ada", number="DEMO111")))
    two = Image.open(io.BytesIO(passport_scan(surname="Demo", given="Ada", number="DEMO999")))
    assert one.tobytes() != two.tobytes()
