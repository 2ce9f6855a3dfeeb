"""Errors the client may see, raised once and rendered once as ``{"errors": [...]}``."""

import logging
import re
from collections.abc import Iterable

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status

from barong.api.failures import failure_response

logger = logging.getLogger(__name__)

# A message that already is a Barong key ("identity.user.missing_email", "non_integer_page").
KEY_RE = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_]+)*$")

# Django/DRF validation codes -> Barong (ActiveModel) error codes.
MODEL_CODES = {
    "max_length": "too_long",
    "min_length": "too_short",
    "unique": "taken",
    "invalid_choice": "inclusion",
    "null": "blank",
    "required": "blank",
}


class ApiError(exceptions.APIException):
    """A failure the client may see: one or more dotted keys and one HTTP status."""

    def __init__(self, keys: str | Iterable[str], status_code: int = 422) -> None:
        self.keys = [keys] if isinstance(keys, str) else list(keys)
        super().__init__(detail=self.keys[0], code=self.keys[0])
        self.status_code = status_code


def model_error_keys(error: DjangoValidationError) -> list[str]:
    """``full_clean()`` errors as Barong model keys: ``<attribute>.<code>``, in order, unique."""
    keys: list[str] = []
    if hasattr(error, "error_dict"):
        items = error.error_dict.items()
    else:
        items = [(NON_FIELD_ERRORS, error.error_list)]
    for field, errors in items:
        for item in errors:
            code = item.code or "invalid"
            if KEY_RE.match(item.message % (item.params or {})) and "." in item.message:
                key = item.message
            elif field == NON_FIELD_ERRORS:
                key = code
            else:
                key = f"{field}.{MODEL_CODES.get(code, code)}"
            if key not in keys:
                keys.append(key)
    return keys


def _field_keys(prefix: str, field: str, errors, serializer) -> list[str]:
    keys: list[str] = []
    if isinstance(errors, dict):  # nested serializer: flatten with the outer name
        for sub_errors in errors.values():
            keys += _field_keys(prefix, field, sub_errors, serializer)
        return keys
    for error in errors:
        message = str(error)
        code = getattr(error, "code", "invalid")
        if KEY_RE.match(message):
            keys.append(message)
            if code == "required" and _non_blank(serializer, field):
                keys.append(f"{prefix}.empty_{field}")
        elif code == "required":
            keys.append(f"{prefix}.missing_{field}")
            if _non_blank(serializer, field):
                keys.append(f"{prefix}.empty_{field}")
        elif code in ("blank", "null"):
            keys.append(f"{prefix}.empty_{field}")
        else:
            keys.append(f"{prefix}.invalid_{field}")
    return keys


def _non_blank(serializer, field: str) -> bool:
    """Barong emits ``empty_`` next to ``missing_`` for absent non-blank params."""
    fields = getattr(serializer, "fields", {})
    target = fields.get(field) if hasattr(fields, "get") else None
    return target is not None and getattr(target, "allow_blank", True) is False


def serializer_error_keys(prefix: str, detail, serializer=None) -> list[str]:
    """A serializer's error dict as Barong parameter keys, in declaration order."""
    keys: list[str] = []
    if isinstance(detail, dict):
        for field, errors in detail.items():
            if field in ("non_field_errors", NON_FIELD_ERRORS):
                keys += [str(e) for e in errors]
            else:
                keys += _field_keys(prefix, field, errors, serializer)
    elif isinstance(detail, list):
        keys += [str(e) if KEY_RE.match(str(e)) else f"{prefix}.invalid" for e in detail]
    else:
        keys.append(str(detail))
    unique: list[str] = []
    for key in keys:
        if key not in unique:
            unique.append(key)
    return unique


def exception_handler(exc, context):
    """DRF's EXCEPTION_HANDLER: every failure becomes ``{"errors": [keys]}``."""
    view = context.get("view")
    prefix = getattr(view, "error_prefix", "api")

    if isinstance(exc, DjangoValidationError):
        exc = ApiError(model_error_keys(exc), status.HTTP_422_UNPROCESSABLE_ENTITY)
    elif isinstance(exc, exceptions.ValidationError):
        exc = ApiError(
            serializer_error_keys(prefix, exc.detail), status.HTTP_422_UNPROCESSABLE_ENTITY
        )
    elif isinstance(exc, Http404):
        exc = ApiError("record.not_found", status.HTTP_404_NOT_FOUND)

    # Imported here: rest_framework.views loads the authentication classes named in
    # settings, which raise ApiError, so this module must not import it at load time.
    from rest_framework.views import exception_handler as drf_exception_handler
    from rest_framework.views import set_rollback

    response = drf_exception_handler(exc, context)  # keeps DRF's rollback of the atomic block
    if response is None:
        # A body refused while parsing, a dependency away (503) or a bug (a logged 500).
        request = context.get("request")
        set_rollback()
        return failure_response(getattr(request, "_request", request), exc)

    if isinstance(exc, ApiError):
        keys = exc.keys
    elif isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
        keys = ["jwt.decode_and_verify"]
        response.status_code = status.HTTP_401_UNAUTHORIZED
    elif isinstance(exc, exceptions.PermissionDenied):
        keys = ["authz.invalid_permission"]
    elif isinstance(exc, exceptions.MethodNotAllowed):
        keys = ["route.method_not_allowed"]
    elif isinstance(exc, exceptions.UnsupportedMediaType):
        keys = ["request.unsupported_media_type"]
    elif isinstance(exc, exceptions.ParseError):
        keys = ["request.malformed"]
    elif isinstance(exc, exceptions.Throttled):
        keys = [f"{prefix}.too_many_requests"]
    elif isinstance(exc, exceptions.NotFound):
        keys = ["record.not_found"]
    else:
        keys = [f"{prefix}.invalid"]
    response.data = {"errors": keys}
    for header in ("WWW-Authenticate",):
        if header in response:
            del response[header]
    return response


def error_response(keys: str | list[str], status_code: int) -> JsonResponse:
    """The same body for plain Django views (404 handler, authz)."""
    return JsonResponse({"errors": [keys] if isinstance(keys, str) else keys}, status=status_code)
