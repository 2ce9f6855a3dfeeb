"""Private KYC file storage: files live outside any static root and are reached by signed URLs.

``PrivateFileStorage.url(name)`` answers a link that carries the file name signed with
Django's ``SECRET_KEY`` and a timestamp, valid ``BARONG_UPLOAD_AUTH_URL_EXPIRATION`` minutes,
so it works like an S3 presigned URL: whoever holds the link may read that one file until it
expires, without a Bearer header (an ``<img src>`` in the back-office or the front end).
"""

import mimetypes
from pathlib import PurePosixPath
from urllib.parse import quote

import filetype
from django.conf import settings
from django.core import signing
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.storage import FileSystemStorage, default_storage
from django.http import FileResponse, HttpRequest, HttpResponse
from django.utils.deconstruct import deconstructible

from barong.api.errors import error_response

FILE_URL_SALT = "kyc.storage.file"
DEFAULT_BASE_URL = "/api/v2/resource/documents/file/"


def file_token(name: str) -> str:
    """The signed, timestamped form of a storage name (URL-safe)."""
    return signing.dumps(name, salt=FILE_URL_SALT, compress=True)


def file_token_name(token: str) -> str:
    """The storage name a token was made for; raises ``signing.BadSignature`` (or
    ``SignatureExpired``) when it was forged, altered or is older than the URL lifetime."""
    max_age = 60 * settings.BARONG_UPLOAD_AUTH_URL_EXPIRATION
    name = signing.loads(token, salt=FILE_URL_SALT, max_age=max_age)
    if not isinstance(name, str) or not name:
        raise signing.BadSignature("not a file name")
    return name


@deconstructible
class PrivateFileStorage(FileSystemStorage):
    """Local disk under ``MEDIA_ROOT``, owner-only; ``url()`` is signed and expiring."""

    def __init__(self, location=None, base_url=None, **kwargs) -> None:
        kwargs.setdefault("file_permissions_mode", 0o600)
        kwargs.setdefault("directory_permissions_mode", 0o700)
        super().__init__(location=location, base_url=base_url or DEFAULT_BASE_URL, **kwargs)

    def url(self, name: str | None) -> str:
        if not name:
            raise ValueError("This file is not accessible via a URL.")
        return f"{self.base_url}{quote(file_token(name), safe='')}"


def file_content_type(name: str, head: bytes) -> str:
    """The type the bytes really are (checked at upload), else a guess from the name."""
    kind = filetype.guess(head)
    if kind is not None:
        return kind.mime
    guessed, _ = mimetypes.guess_type(name)
    return guessed or "application/octet-stream"


def document_file(request: HttpRequest, token: str) -> HttpResponse:
    """``GET …/resource/documents/file/<signed>``: stream one stored KYC file.

    A plain Django view (no Bearer, no permission table): the signature is the credential.
    The response never lets a browser reinterpret the bytes (nosniff, a sandboxing CSP).
    """
    if request.method not in ("GET", "HEAD"):
        return error_response("route.method_not_allowed", 405)
    try:
        name = file_token_name(token)
    except signing.SignatureExpired:
        return error_response("resource.documents.url_expired", 403)
    except signing.BadSignature:
        return error_response("record.not_found", 404)
    try:
        handle = default_storage.open(name, "rb")
    except (OSError, ValueError, SuspiciousFileOperation):
        return error_response("record.not_found", 404)
    head = handle.read(261)
    handle.seek(0)
    filename = PurePosixPath(name).name
    response = FileResponse(handle, content_type=file_content_type(filename, head))
    response["Content-Disposition"] = f"inline; filename*=UTF-8''{quote(filename)}"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    response["Referrer-Policy"] = "no-referrer"
    return response
