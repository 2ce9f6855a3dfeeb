"""Upload checks and the private storage's signed URLs, without HTTP."""

import pytest
from django.core import signing
from django.core.files.base import ContentFile

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
