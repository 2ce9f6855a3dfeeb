"""OpenAPI post-processing: what every operation may answer and how clients authenticate.

drf-spectacular describes each view from its decorators; the statuses below come from
layers every view shares (the parser, the exception handler, Redis or the database
going away), so they are added here once instead of on ~70 operations.
"""

from typing import Any

ERRORS_REF = {"$ref": "#/components/schemas/Errors"}
UNSAFE = ("post", "put", "patch", "delete")

SHARED_ERRORS = {
    "400": "Malformed request: unparsable body or query (request.malformed)",
    "414": "Request line too long",
    "503": "Database or Redis unreachable (server.unavailable); retry after Retry-After",
}
BODY_ERRORS = {"413": "Request body too large"}
AUTH_ERRORS = {
    "401": "Missing or invalid credentials (jwt.decode_and_verify, authz.* keys)",
    "403": "The role may not use this endpoint (authz.invalid_permission)",
}

SECURITY_SCHEMES: dict[str, dict[str, Any]] = {
    "CsrfToken": {
        "type": "apiKey",
        "in": "header",
        "name": "X-CSRF-Token",
        "description": "With the session cookie on POST, PUT, PATCH and DELETE: the"
        " csrf_token that login, sign-up or e-mail confirmation answered.",
    },
    "ApiKeyId": {
        "type": "apiKey",
        "in": "header",
        "name": "X-Auth-Apikey",
        "description": "API-key mode of /api/v2/auth: the key's kid.",
    },
    "ApiKeyNonce": {
        "type": "apiKey",
        "in": "header",
        "name": "X-Auth-Nonce",
        "description": "Milliseconds since the epoch, within BARONG_APIKEY_NONCE_LIFETIME.",
    },
    "ApiKeySignature": {
        "type": "apiKey",
        "in": "header",
        "name": "X-Auth-Signature",
        "description": "hex HMAC-SHA256 of nonce + kid with the key's secret.",
    },
}


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": ERRORS_REF}}}


def _complete_operation(method: str, operation: dict[str, Any]) -> None:
    responses = operation.setdefault("responses", {})
    wanted = dict(SHARED_ERRORS)
    if "requestBody" in operation:
        wanted.update(BODY_ERRORS)
    security = operation.get("security") or []
    if any(scheme for scheme in security):  # [{}] alone means "no authentication"
        wanted.update(AUTH_ERRORS)
        if method in UNSAFE:
            operation["security"] = [
                {**entry, "CsrfToken": []} if "SessionCookie" in entry else entry
                for entry in security
            ]
    for status, description in wanted.items():
        responses.setdefault(status, _error(description))


def complete_responses(result: dict[str, Any], generator, request, public) -> dict[str, Any]:
    """``POSTPROCESSING_HOOKS`` entry: shared error statuses and the CSRF/API-key headers."""
    for path, item in result.get("paths", {}).items():
        if not path.startswith("/api/v2/"):
            continue
        for method, operation in item.items():
            if method in ("get", "head", "post", "put", "patch", "delete"):
                _complete_operation(method, operation)
    schemes = result.setdefault("components", {}).setdefault("securitySchemes", {})
    schemes.update(SECURITY_SCHEMES)
    return result
