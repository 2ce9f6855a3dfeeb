"""Checks on one uploaded KYC file before anything is stored.

Error keys (422, model style, as ``upload.<code>``):
- ``upload.blank``: no file, or a part without a file name;
- ``upload.extension_whitelist_error``: the name's extension is not in
  ``BARONG_UPLOAD_EXTENSION_WHITELIST`` (``jpg, jpeg, png, pdf``);
- ``upload.size_range_error``: fewer than ``BARONG_UPLOAD_SIZE_MIN_RANGE`` bytes (Barong counts
  that one in bytes) or more than ``BARONG_UPLOAD_SIZE_MAX_RANGE`` megabytes;
- ``upload.integrity_error``: the bytes are not what the extension claims (checked by magic
  numbers with ``filetype``: a ``.png`` that is not a PNG, a PDF named ``.jpg``, HTML, ...).
  An operator-added extension that ``filetype`` cannot recognise is not content-checked.
  Images are also decoded with Pillow: the format must be the one claimed, the size at most
  ``MAX_PIXELS`` (a decompression bomb is refused from its header, before decoding), and
  the data whole. A file that is also another format, or carries what another program
  would run (bytes after a JPEG's or PNG's end, markup in an image, scripts, launches or
  attachments in a PDF: ``kyc/polyglots.py``), is refused too.
"""

import re
import unicodedata
import warnings
from dataclasses import dataclass
from pathlib import PurePosixPath, PureWindowsPath

import filetype
from django.conf import settings
from django.core.files import File
from PIL import Image

from kyc.polyglots import polyglot

# Several names for one format; ``filetype`` reports the first.
EXTENSION_ALIASES = {"jpeg": "jpg", "jpe": "jpg", "tif": "tiff", "htm": "html"}
SAFE_STEM_RE = re.compile(r"[^A-Za-z0-9_-]+")
HEAD_BYTES = 8192
# A 48-megapixel phone photo fits; a decoded image costs up to 4 bytes per pixel.
MAX_PIXELS = 50_000_000
PILLOW_FORMATS = {"jpg": "JPEG", "png": "PNG"}


@dataclass(frozen=True)
class CheckedUpload:
    """A file that passed every check, with the name it will be stored under."""

    file: File
    name: str
    extension: str


def upload_extension(filename: str) -> str:
    """The lower-case extension of the last path component ("" when there is none)."""
    base = PureWindowsPath(PurePosixPath(filename).name).name
    _, dot, extension = base.rpartition(".")
    return extension.lower() if dot else ""


def upload_safe_name(filename: str, extension: str) -> str:
    """An ASCII file name without any path: traversal (``../../x.png``) cannot leave the folder."""
    base = PureWindowsPath(PurePosixPath(filename).name).name
    stem = base.rpartition(".")[0] or base
    stem = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode()
    stem = SAFE_STEM_RE.sub("_", stem).strip("_-")[:60] or "upload"
    return f"{stem}.{extension}"


def upload_content_matches(head: bytes, extension: str) -> bool:
    """True when the magic numbers say the same format as the extension."""
    claimed = EXTENSION_ALIASES.get(extension, extension)
    if filetype.get_type(ext=claimed) is None:
        return True  # a format filetype cannot recognise: nothing to compare with
    kind = filetype.guess(head)
    if kind is None:
        return False
    return EXTENSION_ALIASES.get(kind.extension, kind.extension) == claimed


def _image_intact(file: File, claimed: str) -> bool:
    """Pillow reads it as the claimed format, within ``MAX_PIXELS``, and decodes it whole."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(file, formats=[PILLOW_FORMATS[claimed]]) as image:
                width, height = image.size
                if not (0 < width * height <= MAX_PIXELS):
                    return False
                # JPEG decodes at 1/8 scale here: every block is still read and checked.
                image.draft("RGB", (max(1, width // 8), max(1, height // 8)))
                image.load()
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError, EOFError):
        return False
    except Image.DecompressionBombWarning:
        return False
    finally:
        file.seek(0)
    return True


def upload_errors(file: object) -> list[str]:
    """Every rule one file breaks, as model keys (empty when it may be stored)."""
    if not isinstance(file, File) or not file.name:
        return ["upload.blank"]
    extension = upload_extension(file.name)
    whitelist = [EXTENSION_ALIASES.get(e, e) for e in settings.BARONG_UPLOAD_EXTENSION_WHITELIST]
    whitelist += settings.BARONG_UPLOAD_EXTENSION_WHITELIST
    if not extension or extension not in whitelist:
        return ["upload.extension_whitelist_error"]
    size = file.size or 0
    if size < settings.BARONG_UPLOAD_SIZE_MIN_RANGE or (
        size > settings.BARONG_UPLOAD_SIZE_MAX_RANGE * 1024 * 1024
    ):
        return ["upload.size_range_error"]
    file.seek(0)
    head = file.read(HEAD_BYTES)
    file.seek(0)
    if not upload_content_matches(head, extension):
        return ["upload.integrity_error"]
    claimed = EXTENSION_ALIASES.get(extension, extension)
    if claimed in PILLOW_FORMATS or claimed == "pdf":
        data = file.read()  # at most BARONG_UPLOAD_SIZE_MAX_RANGE megabytes, checked above
        file.seek(0)
        if polyglot(data, claimed):
            return ["upload.integrity_error"]
        if claimed in PILLOW_FORMATS and not _image_intact(file, claimed):
            return ["upload.integrity_error"]
    return []


def upload_check(file: File) -> CheckedUpload:
    """A file known to pass ``upload_errors`` with its safe storage name."""
    extension = upload_extension(file.name or "")
    return CheckedUpload(
        file=file, name=upload_safe_name(file.name or "", extension), extension=extension
    )
