"""KYC fixtures: a verified member with a Bearer client, and real file bytes for uploads."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

# Minimal but genuine files: filetype recognises them by their magic numbers.
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"
JPG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 32
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
