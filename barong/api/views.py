"""Base viewsets: Barong's parameter merging, error prefix, pagination and authentication."""

import sys
from functools import cached_property
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.response import Response
from rest_framework.settings import api_settings

from barong.api.errors import ApiError, error_response
from barong.api.failures import (
    DEPENDENCY_ERRORS,
    RETRY_AFTER_SECONDS,
    bad_request_response,
    failure_response,
    is_api_path,
)
from barong.api.pagination import BarongPagination
from barong.api.params import request_params, validate_params


class ErrorsSerializer(serializers.Serializer):
    errors = serializers.ListField(child=serializers.CharField())


def errors_response(description: str) -> OpenApiResponse:
    return OpenApiResponse(ErrorsSerializer, description=description)


# The errors every admin endpoint documents, and every resource endpoint behind the permission
# table: declared once, extended by each operation's own.
ADMIN_ACCESS_ERRORS = {401: "Invalid bearer token", 403: "The role may not use this endpoint"}
RESOURCE_ACCESS_ERRORS = {401: "Invalid bearer token", 403: "Denied by the permission table"}

# Where Barong answered a bare status number, this server answers {} (status_only).
EMPTY_BODY = {"type": "object", "maxProperties": 0}


def _empty_serializer(output: Any) -> bool:
    """A field-less Serializer class documents ``{}``, not "no response body"."""
    return (
        isinstance(output, type)
        and issubclass(output, serializers.Serializer)
        and not issubclass(output, serializers.ModelSerializer)
        and not output._declared_fields
    )


def barong_schema(
    *,
    summary: str,
    input: type[serializers.Serializer] | None = None,
    output: Any = None,
    status: int = 200,
    errors: dict[int, str] | None = None,
    query: bool = False,
    many: bool = False,
    **kwargs: Any,
):
    """One place to describe an operation: its parameters, success and error statuses."""
    if status == 204:
        output = OpenApiResponse(None, description="No content")
    elif output is None or _empty_serializer(output):
        output = OpenApiResponse(EMPTY_BODY, description="{}")
    responses: dict[int, Any] = {status: output(many=True) if many else output}
    for code, text in (errors or {}).items():
        responses[code] = errors_response(text)
    if query and input is not None:
        return extend_schema(summary=summary, parameters=[input], responses=responses, **kwargs)
    return extend_schema(summary=summary, request=input, responses=responses, **kwargs)


class BarongViewSet(viewsets.GenericViewSet):
    """Handlers parse with ``self.parse(Input)``, call one service, and serialize."""

    error_prefix = "api"
    authentication_classes: list = []
    permission_classes: list = []
    pagination_class = BarongPagination

    def initial(self, request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # authentication and permissions first
        # No row can have a NUL in its uid, kid or key, and PostgreSQL refuses one in a query.
        if any("\x00" in str(value) for value in kwargs.values()):
            raise ApiError("record.not_found", 404)

    @cached_property
    def params(self) -> dict[str, Any]:
        return request_params(self.request)

    def parse(self, serializer_class: type[serializers.Serializer]) -> dict[str, Any]:
        return validate_params(
            serializer_class, self.params, self.error_prefix, {"request": self.request}
        )

    def paginated(
        self,
        queryset,
        serializer_class: type[serializers.Serializer],
        keys=None,
        positions=None,
    ) -> Response:
        """A page of ``queryset``; ``keys`` or ``positions`` may find its primary keys more
        cheaply (barong/api/pagination.py)."""
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(
            queryset, self.request, view=self, keys=keys, positions=positions
        )
        data = serializer_class(page, many=True, context={"request": self.request}).data
        return paginator.get_paginated_response(data)


class ResourceViewSet(BarongViewSet):
    """A logged-in user: Bearer JWT or session cookie, then the role's permission rules.

    The classes are named in ``REST_FRAMEWORK`` (``DEFAULT_AUTHENTICATION_CLASSES``,
    ``DEFAULT_PERMISSION_CLASSES``) and live in their apps; they are read per request so
    this module imports no app.
    """

    def get_authenticators(self):
        return [auth() for auth in api_settings.DEFAULT_AUTHENTICATION_CLASSES]

    def get_permissions(self):
        return [permission() for permission in api_settings.DEFAULT_PERMISSION_CLASSES]


class AdminViewSet(ResourceViewSet):
    """An operator: same authentication; the seeded rules keep members out."""


def status_only(status: int) -> Response:
    """Where Barong answered a bare number as body, the contract answers ``{}``."""
    return Response({}, status=status)


@csrf_exempt  # the API has its own CSRF rule: an unknown path is 404 for every method
def route_not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    return error_response("route.not_found", 404)


# Django's error handlers (``handler400``… in barong/urls.py): JSON under /api/v2, Django's
# own pages elsewhere (the back-office).


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if is_api_path(request):
        return bad_request_response(exception) or error_response("request.malformed", 400)
    return defaults.bad_request(request, exception)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if is_api_path(request):
        return error_response("route.not_found", 404)
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    """Called while the exception is being handled, so ``sys.exc_info()`` names it."""
    exc = sys.exc_info()[1]
    if is_api_path(request):
        if exc is None:
            return error_response("server.internal_error", 500)
        return failure_response(request, exc)
    if isinstance(exc, DEPENDENCY_ERRORS):
        response = HttpResponse("Service unavailable, try again shortly.", status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    return defaults.server_error(request)
