"""Request body parsers that refuse hostile shapes before any recursive work."""

import io

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from rest_framework import parsers
from rest_framework.exceptions import ParseError

# Barong's parameters are flat; a few levels leave room for arrays of objects.
MAX_JSON_DEPTH = 32
# Quotes and brackets in one body: ~5,000 strings, far beyond any Barong operation (a form
# may carry 200 fields), and it bounds the cost of the depth scan.
MAX_JSON_MARKS = 10_000
_NOT_MARKS = bytes(b for b in range(256) if b not in b'[]{}"')
_OPEN = frozenset(b"[{")


def json_refusal(body: bytes, limit: int = MAX_JSON_DEPTH) -> str | None:
    """Why a JSON body is refused before parsing (nested deeper than ``limit``, or too many
    values), or None. Linear scans in C, then a Python loop over at most 10,000 marks."""
    # Escapes first, so every quote left opens or closes a string.
    unescaped = body.replace(b"\\\\", b"").replace(b'\\"', b"")
    marks = unescaped.translate(None, _NOT_MARKS)
    if len(marks) > MAX_JSON_MARKS:
        return "too many values"
    depth = 0
    for byte in b"".join(marks.split(b'"')[::2]):  # brackets outside string literals
        depth += 1 if byte in _OPEN else -1
        if depth > limit:
            return "nested too deep"
    return None


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser behind a size bound and a nesting bound.

    Python's JSON decoder recurses once per level, so a body nested a thousand deep
    raises ``RecursionError``; the depth is measured first, in linear time.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        body = stream.read(limit + 1) if limit is not None else stream.read()
        if limit is not None and len(body) > limit:
            raise RequestDataTooBig("Request body exceeded DATA_UPLOAD_MAX_MEMORY_SIZE.")
        refusal = json_refusal(body)
        if refusal is not None:
            raise ParseError(f"JSON {refusal}")
        return super().parse(io.BytesIO(body), media_type, parser_context)
