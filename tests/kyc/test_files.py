"""Upload checks and the private storage's signed URLs, without HTTP."""

import io
import struct
import zipfile
import zlib

import pytest
from django.core import signing
from django.core.files.base import ContentFile
from PIL import Image

from kyc.documents import upload_errors, upload_extension, upload_safe_name
from kyc.storage import PrivateFileStorage, file_token, file_token_name
from tests.kyc.conftest import JPG, PDF, PNG


@pytest.mark.parametrize(
    ("name", "extension"),
    [("a.PNG", "png"), ("a.tar.pdf", "pdf"), ("noext", ""), ("../../x.jpeg", "jpeg"),
     ("..\\evil.jpg", "jpg"), (".png", "png")],
)  # fmt: skip
def test_extension_of_the_last_component(name, extension):
    assert upload_extension(name) == extension


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("../../x.png", "x.png"),
        ("C:\\Users\\me\\scan.pdf", "scan.pdf"),
        ("Paß foto.jpg", "Pa_foto.jpg"),
        ("..", "upload.png"),
        ("\u202egnp.exe", "gnp.png"),
        ("x" * 300, "x" * 60 + ".png"),
    ],
)
def test_stored_names_are_plain_ascii_without_paths(name, safe):
    extension = safe.rsplit(".", 1)[1]

    assert upload_safe_name(name, extension) == safe


@pytest.mark.parametrize(
    ("name", "body", "errors"),
    [
        ("a.png", PNG, []),
        ("a.jpg", JPG, []),
        ("a.jpeg", JPG, []),
        ("a.pdf", PDF, []),
        ("a.pdf", PNG, ["upload.integrity_error"]),
        ("a.png", b"", ["upload.size_range_error"]),
        ("a.exe", PNG, ["upload.extension_whitelist_error"]),
    ],
)
def test_upload_errors(name, body, errors):
    assert upload_errors(ContentFile(body, name=name)) == errors


def test_nothing_is_upload_blank():
    assert upload_errors(None) == ["upload.blank"]


def test_an_operator_extension_filetype_cannot_recognise_is_not_content_checked(settings):
    settings.BARONG_UPLOAD_EXTENSION_WHITELIST = ["png", "txt"]

    assert upload_errors(ContentFile(b"plain words", name="note.txt")) == []


def test_tokens_round_trip_and_refuse_tampering():
    token = file_token("uploads/document/upload/abc/x.png")

    assert file_token_name(token) == "uploads/document/upload/abc/x.png"
    with pytest.raises(signing.BadSignature):
        file_token_name(token[:-2] + "xx")


def test_urls_carry_a_signed_token(tmp_path):
    storage = PrivateFileStorage(location=tmp_path)

    url = storage.url("uploads/a.png")

    assert url.startswith("/api/v2/resource/documents/file/")
    assert "uploads/a.png" not in url


def test_files_are_owner_only(tmp_path):
    storage = PrivateFileStorage(location=tmp_path)

    name = storage.save("uploads/x/a.png", ContentFile(PNG))

    assert (tmp_path / name).stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "uploads").stat().st_mode & 0o777 == 0o700


def _png_claiming(width: int, height: int) -> bytes:
    """A PNG whose header (with a valid CRC) announces ``width`` x ``height`` pixels."""
    header = b"IHDR" + struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    ihdr = struct.pack(">I", 13) + header + struct.pack(">I", zlib.crc32(header))
    return PNG[:8] + ihdr + PNG[8 + 25 :]


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("payload.html", "<script>alert(1)</script>")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "body"),
    [
        ("a.png", PNG[: len(PNG) // 2]),  # truncated
        ("a.jpg", JPG[: len(JPG) // 2]),
        ("a.png", PNG[:8] + b"\0" * 200),  # a PNG signature and nothing of an image
        ("a.jpg", JPG[:4] + b"\0" * 200),
        ("a.png", _png_claiming(100_000, 100_000)),  # decompression bomb, refused by its header
        ("a.png", _png_claiming(60_000, 1_000)),  # over MAX_PIXELS
        ("a.png", PNG + PDF),  # polyglots
        ("a.jpg", JPG + PDF),
        ("a.png", PNG + _zip()),
        ("a.jpg", JPG + _zip()),
        ("a.pdf", PDF + _zip()),
    ],
)
def test_images_must_decode_and_be_one_format_only(name, body):
    assert upload_errors(ContentFile(body, name=name)) == ["upload.integrity_error"]


def test_a_real_photo_sized_image_passes():
    buffer = io.BytesIO()
    Image.new("RGB", (4000, 3000), (10, 20, 30)).save(buffer, format="JPEG", quality=50)

    assert upload_errors(ContentFile(buffer.getvalue(), name="photo.jpeg")) == []
