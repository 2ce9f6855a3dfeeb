"""What a KYC file may carry besides its own format: nothing another program would run.

A file that is also a second format (a polyglot: a JPEG with HTML appended, a PNG hiding a
PDF, a PDF carrying a ZIP or a script) is refused by ``upload_errors`` as
``upload.integrity_error``. The checks walk the format's own structure to its end:

- JPEG: segments from SOI to EOI, the entropy-coded data skipped as the standard marks it.
  After the EOI only further whole JPEG images (the multi-picture format of HDR gain maps,
  Ultra HDR and stereo pairs) and padding bytes (``00``, ``FF``) are accepted: a motion
  photo's video, a vendor trailer or anything else is refused.
- PNG: chunks from the signature to IEND; nothing may follow IEND.
- Images: their metadata (JPEG segments, PNG chunks other than pixel data) holds no HTML
  or SVG markup, and no PDF header appears anywhere.
- PDF: no action that runs or opens something (``/JavaScript``, ``/Launch``,
  ``/SubmitForm``, ``/ImportData``, ``/RichMedia``, ``/GoToE``), no XFA form (it carries
  scripts), no attached file (``/EmbeddedFile``, ``/EmbeddedFiles``); names are matched
  with their ``#xx`` escapes decoded, in the file and in every Flate stream inflated (object
  streams hold compressed dictionaries), at most ``PDF_INFLATED_MAX`` bytes in all. An
  object stream that cannot be inflated (encrypted, another filter) is refused, and after
  the last ``%%EOF`` only whitespace may follow. Links (``/URI``), page actions
  (``/OpenAction`` to a page, ``/AA`` without a script) and forms without scripts stay
  accepted: statements and filled-in forms use them. A ``/JS`` entry runs only in an action
  whose ``/S`` is ``/JavaScript``, which is looked for; ``/JS`` alone is too short to look for
  without refusing honest compressed data by chance.
- Every file: no ZIP directory at its end. A JPEG of more than ``JPEG_MAX_SEGMENTS``
  segments or a PNG of more than ``PNG_MAX_CHUNKS`` chunks is refused rather than walked.

Why our own walk rather than a PDF or image library: it needs only the bytes that end a
format and names of PDF dictionaries; a full parser interprets hostile input with far more
code. What the walk cannot read, it refuses.
"""

import re
import zlib

PDF_MAGIC = b"%PDF-"
ZIP_END = b"PK\x05\x06"  # end of a ZIP central directory, within the last 64 KiB + 22 bytes
JPEG_SOI = b"\xff\xd8"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PNG_PIXEL_CHUNKS = (b"IDAT", b"fdAT")
# Far above any honest file (a photo has tens of JPEG segments, a PNG a few thousand chunks
# at most); a file of nothing but empty segments would otherwise cost seconds to walk.
JPEG_MAX_SEGMENTS = 4096
PNG_MAX_CHUNKS = 65536

# After SOS, the next marker: FF followed by anything but a stuffed 00, a restart marker
# (D0-D7) or another FF (fill).
_JPEG_NEXT_MARKER = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")
# Padding after an EOI: 00 and FF bytes (but for the FF that starts the next image's SOI).
_JPEG_FILL = re.compile(rb"\xff+")
_JPEG_PADDING = re.compile(rb"[\x00\xff]*")
_JPEG_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})  # TEM, RST0-7: no length follows

_MARKUP = re.compile(
    rb"<(?:!doctype|html|head|body|script|iframe|svg|object|embed|meta)[\s/>]", re.IGNORECASE
)

PDF_REFUSED_NAMES = (
    "JavaScript",
    "Launch",
    "SubmitForm",
    "ImportData",
    "RichMedia",
    "GoToE",
    "EmbeddedFile",
    "EmbeddedFiles",
)
_PDF_DELIMITER = rb"(?=[\s()<>\[\]{}/%]|$)"
# The inflated streams of one PDF, at most: beyond, it is refused rather than read on.
PDF_INFLATED_MAX = 256 * 1024 * 1024
_INFLATE_CHUNK = 1024 * 1024
_OVERLAP = 256  # longer than any name looked for, escapes included


def _name(name: str) -> bytes:
    """A PDF name after its slash, each character also accepted as its ``#xx`` escape."""
    parts = []
    for char in name:
        digits = b"".join(b"[" + (d + d.upper()).encode() + b"]" for d in f"{ord(char):02x}")
        parts.append(b"(?:" + re.escape(char.encode()) + b"|#" + digits + b")")
    return b"".join(parts)


# One leading literal slash, so the search skips ahead to each "/" at C speed.
_PDF_REFUSED = re.compile(
    rb"/(?:(?:"
    + b"|".join(_name(name) for name in sorted(PDF_REFUSED_NAMES, key=len, reverse=True))
    + rb")"
    + _PDF_DELIMITER
    # An XFA form: the key with an array or a reference (``/XFA`` alone is short).
    + rb"|"
    + _name("XFA")
    + rb"\s*(?:\[|\d+\s+\d+\s+R))"
)
_PDF_OBJSTM = re.compile(b"/" + _name("ObjStm") + _PDF_DELIMITER)
_PDF_OBJSTM_HEAD = re.compile(rb"\s*\d+\s+\d+\s")  # "objnum offset" pairs
# The keyword alone (a lookbehind here would cost the literal search): "endstream" is
# told apart by the byte before it.
_PDF_STREAM = re.compile(rb"stream(?:\r\n|\n|\r)")
_PDF_TRAILING = re.compile(rb"[\s\x00]*")


# ---------------------------------------------------------------- images


def jpeg_walk(data: bytes, start: int = 0) -> tuple[int, list[tuple[int, int]]] | None:
    """The offset just past the EOI of the JPEG at ``start`` and the spans of its marker
    segments (metadata, tables, thumbnails); None when it is not a whole JPEG."""
    if data[start : start + 2] != JPEG_SOI:
        return None
    size = len(data)
    position = start + 2
    segments = []
    while position < size:
        if data[position] != 0xFF:
            return None
        position = _JPEG_FILL.match(data, position).end()  # fill bytes before a marker
        if position >= size:
            return None
        marker = data[position]
        position += 1
        if marker == 0xD9:  # EOI
            return position, segments
        if marker in _JPEG_STANDALONE:
            continue
        if marker == 0x00 or position + 2 > size:
            return None
        length = int.from_bytes(data[position : position + 2], "big")
        if length < 2 or position + length > size:
            return None
        segments.append((position, position + length))
        if len(segments) > JPEG_MAX_SEGMENTS:
            return None
        position += length
        if marker == 0xDA:  # SOS: entropy-coded data up to the next marker
            found = _JPEG_NEXT_MARKER.search(data, position)
            if found is None:
                return None
            position = found.start()
    return None


def jpeg_refused(data: bytes) -> bool:
    """Anything but whole JPEG images and padding after the first image, or markup in
    their segments."""
    walked = jpeg_walk(data)
    if walked is None:
        return True
    position, segments = walked
    size = len(data)
    while True:
        padded = _JPEG_PADDING.match(data, position).end()
        if padded < size and data[padded] == 0xD8 and padded > position:
            padded -= 1  # the FF of the next SOI
        position = padded
        if position >= size:
            break
        walked = jpeg_walk(data, position)
        if walked is None:
            return True
        position, more = walked
        segments += more
        if len(segments) > JPEG_MAX_SEGMENTS:
            return True
    return any(_MARKUP.search(data, begin, end) for begin, end in segments)


def png_refused(data: bytes) -> bool:
    """Chunks that do not reach IEND, anything after IEND, or markup in a non-pixel chunk."""
    if not data.startswith(PNG_SIGNATURE):
        return True
    size = len(data)
    position = len(PNG_SIGNATURE)
    for _chunk in range(PNG_MAX_CHUNKS):
        if position + 8 > size:
            return True
        length = int.from_bytes(data[position : position + 4], "big")
        kind = data[position + 4 : position + 8]
        begin, end = position + 8, position + 8 + length
        position = end + 4  # the CRC
        if position > size:
            return True
        if kind not in PNG_PIXEL_CHUNKS and _MARKUP.search(data, begin, end):
            return True
        if kind == b"IEND":
            return position != size
    return True


# ---------------------------------------------------------------- PDF


def _inflate_scan(view: memoryview, start: int, budget: list[int]) -> tuple[bool | None, bytes]:
    """Inflate the Flate stream at ``start`` piece by piece, looking for refused names.

    Answers (True, …) for a refused name or a spent budget, (False, head) for a clean
    stream, (None, …) for bytes that do not inflate (another filter, encrypted, broken);
    ``head`` is the start of the inflated text (an object stream's starts with numbers)."""
    header = bytes(view[start : start + 2])
    if len(header) < 2 or header[0] & 0x0F != 8 or int.from_bytes(header, "big") % 31:
        return None, b""  # no zlib header: another filter (DCT, JPX, CCITT…) or none
    inflater = zlib.decompressobj()
    head = carry = b""
    position = start
    while not inflater.eof and position < len(view):
        pending: bytes | memoryview = view[position : position + _INFLATE_CHUNK]
        position += len(pending)
        while pending and not inflater.eof:
            try:
                out = inflater.decompress(pending, _INFLATE_CHUNK)
            except zlib.error:
                return None, head
            budget[0] -= len(out)
            if budget[0] < 0 or _PDF_REFUSED.search(carry + out):
                return True, head
            head = head or out[:64]
            carry = (carry + out)[-_OVERLAP:]
            pending = inflater.unconsumed_tail
    return False, head


def pdf_refused(data: bytes) -> bool:
    """Scripts, launches, attachments or XFA; object streams that cannot all be read; more
    than whitespace after the last ``%%EOF``."""
    end = data.rfind(b"%%EOF")
    if end < 0 or _PDF_TRAILING.match(data, end + 5).end() != len(data):
        return True
    if _PDF_REFUSED.search(data):
        return True
    view = memoryview(data)
    budget = [PDF_INFLATED_MAX]
    object_streams = 0
    for found in _PDF_STREAM.finditer(data):
        if found.start() and data[found.start() - 1 : found.start()].isalpha():
            continue  # endstream
        refused, head = _inflate_scan(view, found.end(), budget)
        if refused:
            return True
        if refused is False and _PDF_OBJSTM_HEAD.match(head):
            object_streams += 1
    # Each object stream the file declares must have been read: one that did not inflate
    # (encrypted, another filter) could hide any dictionary.
    return len(_PDF_OBJSTM.findall(data)) > object_streams


def polyglot(data: bytes, claimed: str) -> bool:
    """Whether the bytes of a ``claimed`` file (jpg, png, pdf) are, or carry, another format."""
    if ZIP_END in data[-(65536 + 22) :]:
        return True
    if claimed == "pdf":
        return pdf_refused(data)
    if PDF_MAGIC in data:
        return True
    if claimed == "jpg":
        return jpeg_refused(data)
    if claimed == "png":
        return png_refused(data)
    return False
