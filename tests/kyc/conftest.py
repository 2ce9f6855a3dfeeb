"""KYC fixtures: a verified member with a Bearer client, and real file bytes for uploads."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image


def _image(format_name: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (24, 16), (40, 90, 200)).save(buffer, format=format_name)
    return buffer.getvalue()


# Small but genuine files: filetype recognises them and Pillow decodes the images.
PNG = _image("PNG")
JPG = _image("JPEG")
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def png(name: str = "passport.png", body: bytes = PNG) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, body, content_type="image/png")


def jpg(name: str = "passport.jpg", body: bytes = JPG) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, body, content_type="image/jpeg")


def pdf(name: str = "passport.pdf", body: bytes = PDF) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, body, content_type="application/pdf")


@pytest.fixture
def member(make_user):
    """A member whose e-mail is confirmed (level 1, active)."""
    return make_user()


@pytest.fixture
def member_api(member, auth_api):
    """The member's Bearer client."""
    return auth_api(member)
