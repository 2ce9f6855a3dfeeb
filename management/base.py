"""The management API's request rules, checked before any endpoint runs.

POST or PUT only (405), no query string (400), ``Content-Type: application/json`` (400),
a body that is JSON (400 "Couldn't parse JWT."), then the multisig JWS verified for the
endpoint's scope (401). The verified payload's ``data`` object is the call's parameters.
Errors are ``{"error": …}`` as Barong's Grape API words them, not dotted keys.
"""

import json
import logging
from typing import Any, ClassVar

from django.conf import settings
from django.db.models import QuerySet
from django.http import Http404
from rest_framework import exceptions
from rest_framework.parsers import JSONParser
from rest_framework.response import Response
from rest_framework.views import APIView, set_rollback

from accounts.models import User
from accounts.serializers import UserSerializer
from barong.api.errors import ApiError
from barong.api.pagination import BarongPagination, Positions
from barong.api.timebounds import unix_time
from barong.jose import json_strict_constant
from kyc.selectors import users_for_entity
from kyc.serializers import UserWithProfileSerializer
from management.params import (
    ManagementError,
    full_message,
    model_key,
    params_parse,
    to_sentence,
)
from management.schema import Operation
from management.verification import VerificationFailed, VerifiedCall, management_call_verify

logger = logging.getLogger(__name__)

ALLOWED_METHODS = ("POST", "PUT")
# A dotted key from a shared service, in the words a management client reads.
KEY_MESSAGES = {
    "record.not_found": "Record is not found",
    "management.otp.too_many_requests": "Too many OTP attempts, try again later",
    "server.unavailable": "Service is temporarily unavailable",
}


def _api_error_body(exc: ApiError) -> Any:
    if all(model_key(key) for key in exc.keys):
        return [full_message(key) for key in exc.keys]
    messages = [KEY_MESSAGES.get(key, key) for key in exc.keys]
    return messages[0] if len(messages) == 1 else messages


def management_exception_handler(exc: Exception, context: dict) -> Response | None:
    """Every failure of a management endpoint as ``{"error": …}``."""
    if isinstance(exc, ManagementError):
        body, status = exc.message, exc.status_code
    elif isinstance(exc, ApiError):
        body, status = _api_error_body(exc), exc.status_code
    elif isinstance(exc, Http404 | User.DoesNotExist):
        body, status = "Record is not found", 404
    elif isinstance(exc, exceptions.MethodNotAllowed):
        body, status = "405 Not Allowed", 405
    elif isinstance(exc, exceptions.APIException):
        body, status = str(exc.detail), exc.status_code
    else:
        return None  # a bug: stays a logged 500
    set_rollback()
    response = Response({"error": body}, status=status)
    if isinstance(exc, exceptions.Throttled | ApiError) and getattr(exc, "wait", None):
        response["Retry-After"] = str(int(exc.wait))
    return response


def _read_body(request) -> bytes:
    """The raw body, refused past ``BARONG_MANAGEMENT_MAX_BODY`` before it is read whole."""
    limit = settings.BARONG_MANAGEMENT_MAX_BODY
    django_request = request._request
    try:
        declared = int(django_request.META.get("CONTENT_LENGTH") or 0)
    except ValueError as exc:
        raise ManagementError("Couldn't parse JWT.", 400) from exc
    if declared > limit:
        raise ManagementError("Request body is too large.", 413)
    # The body is read here once, with our own bound (DATA_UPLOAD_MAX_MEMORY_SIZE is
    # smaller than a document push needs). Django keeps it in ``_body`` if something
    # read it already.
    cached = getattr(django_request, "_body", None)
    body = cached if cached is not None else django_request.read(limit + 1)
    if len(body) > limit:
        raise ManagementError("Request body is too large.", 413)
    return body


class ManagementView(APIView):
    """A management endpoint: each handler declares its scope and parameters once
    (``management_operation``); ``initial`` verifies the call for that scope and parses
    ``params`` by that declaration before the handler runs. ``scopes`` (method → scope)
    is read from the handlers, for the tools that sign calls."""

    authentication_classes: ClassVar[list] = []
    permission_classes: ClassVar[list] = []
    # The body is read and checked in ``initial``; this only tells the schema it is JSON.
    parser_classes: ClassVar[list] = [JSONParser]
    operations: ClassVar[dict[str, Operation]] = {}
    scopes: ClassVar[dict[str, str]] = {}
    call: VerifiedCall
    params: dict[str, Any]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.operations = {
            method: getattr(cls, method).management_operation
            for method in ("post", "put")
            if hasattr(getattr(cls, method, None), "management_operation")
        }
        cls.scopes = {method: operation.scope for method, operation in cls.operations.items()}

    def get_exception_handler(self):
        return management_exception_handler

    def initial(self, request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        if request.method not in ALLOWED_METHODS:
            raise ManagementError("Only POST and PUT verbs are allowed.", 405)
        if request._request.GET:
            raise ManagementError("Query parameters are not allowed.", 400)
        if (request._request.content_type or "").lower() != "application/json":
            raise ManagementError("Only JSON body is accepted.", 400)
        try:
            document = json.loads(_read_body(request), parse_constant=json_strict_constant)
        except (ValueError, RecursionError) as exc:
            raise ManagementError("Couldn't parse JWT.", 400) from exc
        operation = self.operations.get(request.method.lower())
        if operation is None:
            raise exceptions.MethodNotAllowed(request.method)
        try:
            self.call = management_call_verify(document, scope=operation.scope)
        except VerificationFailed as exc:
            raise ManagementError(exc.message, 401) from exc
        data = self.call.data
        if not isinstance(data, dict):
            raise ManagementError("data is invalid", 422)
        self.params = params_parse(data, operation.params, operation.exactly_one_of)

    @property
    def signers(self) -> tuple[str, ...]:
        return self.call.signers


def paginated(
    queryset: QuerySet,
    serializer_class: type,
    params: dict[str, Any],
    keys: QuerySet | None = None,
    positions: Positions | None = None,
) -> Response:
    """Page ``params["page"]`` of ``params["limit"]`` rows as a bare array with
    api-pagination's Total, Page and Per-Page headers: the project's pagination and counting
    (barong/api/pagination.py), the page and limit checked as management parameters."""
    paginator = BarongPagination()
    rows = paginator.page_of(
        queryset, params["page"], params["limit"], keys=keys, positions=positions
    )
    response = paginator.get_paginated_response(serializer_class(rows, many=True).data)
    response.status_code = 200
    return response


def users_page(users: QuerySet, data: dict[str, Any], **kwargs: Any) -> Response:
    """A page of ``users`` as the management lists answer it: with profiles when ``extended``;
    ``kwargs`` pass the page's keys or positions on to ``paginated``."""
    entity = UserWithProfileSerializer if data["extended"] else UserSerializer
    return paginated(users_for_entity(users, entity), entity, data, **kwargs)


def time_bounds(queryset: QuerySet, data: dict[str, Any]) -> QuerySet:
    """``from``/``to`` (inclusive unix seconds) on the ``range`` column, created by default."""
    column = f"{data.get('range', 'created')}_at"
    if "from" in data:
        queryset = queryset.filter(**{f"{column}__gte": unix_time(data["from"])})
    if "to" in data:
        queryset = queryset.filter(**{f"{column}__lte": unix_time(data["to"])})
    return queryset


def user_by_uid(uid: str, queryset=None, *, missing: Exception | None = None) -> User:
    """``User.find_by!(uid:)``: ``missing`` (404 "Record is not found" unless an endpoint
    answers otherwise) when there is none."""
    user = (queryset if queryset is not None else User.objects).filter(uid=uid.upper()).first()
    if user is None:
        raise missing or ManagementError("Record is not found", 404)
    return user


def sentence_error(exc: ApiError) -> ManagementError:
    """Barong's document errors: one sentence of full messages (``to_sentence``)."""
    body = _api_error_body(exc)
    if isinstance(body, list):
        return ManagementError(to_sentence(body), exc.status_code)
    return ManagementError(body, exc.status_code)
