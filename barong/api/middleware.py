"""Plumbing every request passes first: its id and the API's body-size rule."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from barong.api.failures import REQUEST_ID_HEADER, errors_json, is_api_path, request_id_for
from barong.request_id import request_id_bound


def api_body_limit(request: HttpRequest) -> int | None:
    """The largest body an API request may declare: form and JSON bodies are held in
    memory (``DATA_UPLOAD_MAX_MEMORY_SIZE``); multipart also carries the KYC files."""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    if limit is None:
        return None
    if request.content_type == "multipart/form-data":
        files = settings.BARONG_DOC_NUM_LIMIT * settings.BARONG_UPLOAD_SIZE_MAX_RANGE * 2**20
        return limit + files
    return limit


class RequestIdMiddleware:
    """First in ``MIDDLEWARE``: every answer carries ``X-Request-ID`` (the id failures are
    logged under), and an API body declared over the limit is 413 before anyone reads it."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = request_id_for(request)
        with request_id_bound(request_id):  # activity rows and log lines carry it
            response = self.refuse(request) or self.get_response(request)
        response[REQUEST_ID_HEADER] = request_id
        return response

    @staticmethod
    def refuse(request: HttpRequest) -> HttpResponse | None:
        """413 for an API request declaring a body over the limit (the authz front asks too)."""
        if not is_api_path(request):
            return None
        raw = request.META.get("CONTENT_LENGTH") or ""
        limit = api_body_limit(request)
        if limit is not None and raw.isdigit() and int(raw) > limit:
            return errors_json(["request.too_large"], 413)
        return None
