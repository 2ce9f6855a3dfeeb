"""Polyglots are refused for every accepted type: crafted JPEGs, PNGs and PDFs, and honest
ones that look unusual (thumbnails, multi-picture files, padding, links) still pass."""

import io
import zlib
from http import HTTPStatus

import pytest
from django.core.files.base import ContentFile
from PIL import Image, PngImagePlugin

from kyc.documents import upload_errors
from kyc.models import Document
from tests.kyc.conftest import JPG, PNG, jpg, pdf
from tests.kyc.test_documents_api import DOCUMENTS, params

HTML = b"<html><body><script>alert(document.cookie)</script></body></html>\n"
REFUSED = ["upload.integrity_error"]


def _errors(body: bytes, name: str) -> list[str]:
    return upload_errors(ContentFile(body, name=name))


def _photo(**options) -> bytes:
    buffer = io.BytesIO()
    image = Image.linear_gradient("L").convert("RGB").resize((320, 240))
    image.save(buffer, format=options.pop("format", "JPEG"), **options)
    return buffer.getvalue()


def _segment(marker: int, payload: bytes) -> bytes:
    return bytes([0xFF, marker]) + (len(payload) + 2).to_bytes(2, "big") + payload


def _with_exif_thumbnail(photo: bytes) -> bytes:
    """An APP1 Exif segment carrying a whole JPEG thumbnail (its own SOI ... EOI)."""
    tiff = b"MM\x00\x2a\x00\x00\x00\x08" + b"\x00\x00" + b"\x00\x00\x00\x00"
    return photo[:2] + _segment(0xE1, b"Exif\x00\x00" + tiff + JPG) + photo[2:]


def _multi_picture() -> bytes:
    """A real MPO (primary image, then a second whole JPEG after its EOI), as HDR gain maps
    and Ultra HDR photos are stored."""
    buffer = io.BytesIO()
    first = Image.new("RGB", (64, 48), (200, 10, 10))
    first.save(buffer, format="MPO", save_all=True, append_images=[Image.new("RGB", (32, 24))])
    return buffer.getvalue()


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")


def _png_with_text(text: str) -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", text)
    buffer = io.BytesIO()
    Image.new("RGB", (24, 16), (1, 2, 3)).save(buffer, format="PNG", pnginfo=info)
    return buffer.getvalue()


# ---------------------------------------------------------------- PDFs, object by object


def _pdf(*objects: bytes, trailer: bytes = b"", tail: bytes = b"\n") -> bytes:
    """A PDF with a cross-reference table: ``objects`` numbered from 1, object 1 the catalog."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R %s>>\n" % (len(objects) + 1, trailer)
    out += b"startxref\n%d\n%%%%EOF" % xref + tail
    return bytes(out)


def _stream(dictionary: bytes, data: bytes) -> bytes:
    return b"<< " + dictionary + b" /Length %d >>\nstream\n" % len(data) + data + b"\nendstream"


PAGES = (
    b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
    b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
)


def _catalog(extra: bytes = b"") -> bytes:
    return b"<< /Type /Catalog /Pages 2 0 R " + extra + b" >>"


def _object_stream(number: int, body: bytes, filters: bytes = b"/FlateDecode") -> bytes:
    """An object stream holding one object (``number``), its dictionaries compressed."""
    header = b"%d 0 " % number
    data = header + body
    if filters == b"/FlateDecode":
        data = zlib.compress(data)
    elif filters == b"/ASCIIHexDecode":
        data = data.hex().encode() + b">"
    first = b"/Type /ObjStm /N 1 /First %d /Filter %s" % (len(header), filters)
    return _stream(first, data)


JS_ACTION = b"<< /S /JavaScript /JS (app.alert\\(1\\)) >>"
CLEAN_PDF = _pdf(_catalog(), *PAGES)


def _pillow_pdf() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (120, 80), (250, 250, 250)).save(buffer, format="PDF", resolution=72)
    return buffer.getvalue()


ACCEPTED = [
    ("photo", _photo(), "a.jpg"),
    ("progressive photo", _photo(progressive=True, quality=70), "a.jpeg"),
    ("photo with exif and comment", _photo(exif=b"Exif\x00\x00MM\x00*", comment=b"scan"), "a.jpg"),
    ("zero padding after the EOI", _photo() + b"\x00" * 512, "a.jpg"),
    ("FF padding after the EOI", _photo() + b"\xff" * 64, "a.jpg"),
    ("an Exif thumbnail", _with_exif_thumbnail(_photo()), "a.jpg"),
    ("a multi-picture file", _multi_picture(), "a.jpg"),
    ("png", PNG, "a.png"),
    ("png with a text comment", _png_with_text("scanned at the branch"), "a.png"),
    ("minimal pdf", CLEAN_PDF, "a.pdf"),
    ("pdf written by Pillow", _pillow_pdf(), "a.pdf"),
    ("pdf ending with blank lines", _pdf(_catalog(), *PAGES, tail=b"\r\n\r\n"), "a.pdf"),
    (
        "pdf with a link and a page open action",
        _pdf(
            _catalog(b"/OpenAction [3 0 R /Fit]"),
            *PAGES,
            b"<< /Type /Annot /Subtype /Link /Rect [0 0 9 9] /A << /S /URI "
            b"/URI (https://bank.example/statement) >> >>",
        ),
        "a.pdf",
    ),
    (
        "pdf with a clean object stream",
        _pdf(_catalog(), *PAGES, _object_stream(5, b"<< /Producer (scanner) >>")),
        "a.pdf",
    ),
    (
        "pdf updated incrementally",
        CLEAN_PDF + b"\n4 0 obj\n<< /Title (x) >>\nendobj\ntrailer\n<< >>\n%%EOF\n",
        "a.pdf",
    ),
]


@pytest.mark.parametrize(("body", "name"), [c[1:] for c in ACCEPTED], ids=[c[0] for c in ACCEPTED])
def test_honest_files_pass(body, name):
    assert _errors(body, name) == []


REFUSED_FILES = [
    ("jpeg with html appended", JPG + HTML, "a.jpg"),
    ("jpeg, padding, then html", JPG + b"\x00" * 16 + HTML, "a.jpg"),
    ("jpeg with html in a comment", _photo(comment=b"<script>alert(1)</script>"), "a.jpg"),
    (
        "jpeg with an svg in an app segment",
        _photo()[:2] + _segment(0xE5, b"<svg onload=x>") + _photo()[2:],
        "a.jpg",
    ),
    ("a second image, then html", _multi_picture() + HTML, "a.jpg"),
    ("a truncated second image", JPG + JPG[: len(JPG) // 2], "a.jpg"),
    ("a motion photo's video", JPG + b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64, "a.jpg"),
    ("jpeg without its EOI", _photo()[:-2], "a.jpg"),
    ("jpeg of 5000 empty segments", JPG[:2] + _segment(0xFE, b"") * 5000 + JPG[2:], "a.jpg"),
    ("png of 70000 empty chunks", PNG[:33] + _png_chunk(b"zZzZ", b"") * 70000 + PNG[33:], "a.png"),
    ("png with html appended", PNG + HTML, "a.png"),
    ("png with zeros after IEND", PNG + b"\x00" * 8, "a.png"),
    ("png with markup in a text chunk", _png_with_text("<script>alert(1)</script>"), "a.png"),
    (
        "png with an html chunk before IEND",
        PNG[:-12] + _png_chunk(b"zZzZ", HTML) + PNG[-12:],
        "a.png",
    ),
    ("pdf with html after %%EOF", CLEAN_PDF + HTML, "a.pdf"),
    (
        "pdf opening with javascript",
        _pdf(_catalog(b"/OpenAction 4 0 R"), *PAGES, JS_ACTION),
        "a.pdf",
    ),
    (
        "javascript behind #-escapes",
        _pdf(_catalog(b"/OpenAction << /S /J#61va#53cript /JS (x) >>"), *PAGES),
        "a.pdf",
    ),
    (
        "a javascript name tree",
        _pdf(_catalog(b"/Names << /JavaScript 4 0 R >>"), *PAGES, b"<< /Names [(a) 5 0 R] >>"),
        "a.pdf",
    ),
    (
        "a page action launching a program",
        _pdf(
            _catalog(),
            PAGES[0],
            b"<< /Type /Page /Parent 2 0 R /AA << /O << /S /Launch /F (cmd.exe) >> >> >>",
        ),
        "a.pdf",
    ),
    (
        "an attached file",
        _pdf(
            _catalog(b"/Names << /EmbeddedFiles << /Names [(x.exe) 4 0 R] >> >>"),
            *PAGES,
            b"<< /Type /Filespec /F (x.exe) /EF << /F 5 0 R >> >>",
            _stream(b"/Type /EmbeddedFile", b"MZ"),
        ),
        "a.pdf",
    ),
    (
        "an xfa form",
        _pdf(_catalog(b"/AcroForm << /Fields [] /XFA 4 0 R >>"), *PAGES, _stream(b"", b"<xdp/>")),
        "a.pdf",
    ),
    (
        "javascript inside a compressed object stream",
        _pdf(_catalog(b"/OpenAction 5 0 R"), *PAGES, _object_stream(5, JS_ACTION)),
        "a.pdf",
    ),
    (
        "an object stream that does not inflate",
        _pdf(_catalog(), *PAGES, _object_stream(5, JS_ACTION, filters=b"/ASCIIHexDecode")),
        "a.pdf",
    ),
    (
        "a submit-form action",
        _pdf(_catalog(b"/OpenAction << /S /SubmitForm /F (https://x.example) >>"), *PAGES),
        "a.pdf",
    ),
]


@pytest.mark.parametrize(
    ("body", "name"), [c[1:] for c in REFUSED_FILES], ids=[c[0] for c in REFUSED_FILES]
)
def test_polyglots_and_active_content_are_refused(body, name):
    assert _errors(body, name) == REFUSED


def test_a_compressed_pdf_inflating_beyond_the_budget_is_refused(monkeypatch):
    from kyc import polyglots

    monkeypatch.setattr(polyglots, "PDF_INFLATED_MAX", 4096)
    big = _pdf(_catalog(), *PAGES, _stream(b"/Filter /FlateDecode", zlib.compress(b" " * 5000)))

    assert _errors(big, "a.pdf") == REFUSED


# ---------------------------------------------------------------- through the doors


@pytest.mark.django_db
@pytest.mark.parametrize(
    "upload",
    [
        pytest.param(lambda: jpg("id.jpg", JPG + HTML), id="jpeg+html"),
        pytest.param(
            lambda: pdf("id.pdf", _pdf(_catalog(b"/OpenAction 4 0 R"), *PAGES, JS_ACTION)),
            id="pdf+js",
        ),
    ],
)
def test_the_upload_api_refuses_them_and_stores_nothing(member_api, member, upload):
    response = member_api.post(DOCUMENTS, {**params(), "upload[]": [upload()]})

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {"errors": REFUSED}
    assert not Document.objects.filter(user=member).exists()


@pytest.mark.django_db
def test_the_upload_api_takes_a_multi_picture_photo(member_api, member):
    response = member_api.post(
        DOCUMENTS, {**params(), "upload[]": [jpg("id.jpg", _multi_picture())]}
    )

    assert response.status_code == HTTPStatus.CREATED
