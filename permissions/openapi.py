"""The gateway's ``/api/v2/auth/{path}`` in the OpenAPI document (a plain Django view).

``permissions.middleware.AuthzMiddleware`` answers it ahead of DRF, so drf-spectacular
cannot see it; this post-processing hook adds it: every method, its three ways in
(none for public paths, the session cookie, the API-key headers) and its answers.
"""

from typing import Any

ERRORS_REF = {"$ref": "#/components/schemas/Errors"}
METHODS = ("get", "post", "put", "patch", "delete")

DESCRIPTION = """\
The API gateway asks this endpoint, before it forwards a request, whether the request may
go upstream: `{path}` is the upstream path without its leading slash, e.g.
`api/v2/barong/resource/users/me` or `api/v2/peatio/market/orders`, and the method is the
request's own. Public paths (`api/v2/barong/identity…`, `api/v2/barong/health…`) answer 200
without credentials and without a token. Otherwise the session cookie (plus `X-CSRF-Token`
on unsafe methods) or the three API-key headers identify the user, the role's permission
rules decide, and a 200 carries `Authorization: Bearer <JWT>` (RS256, verified with
`/api/v2/identity/jwks`) for the gateway to pass upstream. The body is always empty on 200.
"""

EXAMPLE_JWT = "eyJhbGciOiJSUzI1NiJ9.eyJ1aWQiOiJJRDAwMDAwMDAwMDEiLCJyb2xlIjoibWVtYmVyIn0.sig"


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": ERRORS_REF}}}


def _operation(method: str) -> dict[str, Any]:
    security: list[dict[str, list]] = [
        {},
        {"SessionCookie": []} if method == "get" else {"SessionCookie": [], "CsrfToken": []},
        {"ApiKeyId": [], "ApiKeyNonce": [], "ApiKeySignature": []},
    ]
    return {
        "operationId": f"authz_{method}",
        "summary": "Gateway authorization: may this request go upstream?",
        "description": DESCRIPTION,
        "tags": ["auth"],
        "security": security,
        "parameters": [
            {
                "name": "path",
                "in": "path",
                "required": True,
                "description": "The upstream path, without its leading slash (may hold /).",
                "schema": {"type": "string"},
                "example": "api/v2/barong/resource/users/me",
            }
        ],
        "responses": {
            "200": {
                "description": "Allowed. Public paths answer without a token.",
                "headers": {
                    "Authorization": {
                        "description": "Bearer JWT for the upstream (absent on public paths)",
                        "schema": {"type": "string", "example": f"Bearer {EXAMPLE_JWT}"},
                    }
                },
                "content": {"text/plain": {"schema": {"type": "string", "maxLength": 0}}},
            },
            "401": _error(
                "No or invalid credentials: authz.invalid_session, authz.missing_csrf_token,"
                " authz.csrf_token_mismatch, authz.user_not_active, authz.invalid_api_key_headers,"
                " authz.invalid_signature, authz.nonce_expired, …"
            ),
            "403": _error(
                "authz.invalid_permission (role rules), authz.permission_denied (blocked"
                " path), authz.restrict.<category> (an IP, country or continent"
                " restriction answers its own code, 403 by default)"
            ),
            "503": _error("Database or Redis unreachable (server.unavailable)"),
        },
    }


def document_authz(result: dict[str, Any], generator, request, public) -> dict[str, Any]:
    """``POSTPROCESSING_HOOKS`` entry: adds ``/api/v2/auth/{path}``."""
    result.setdefault("paths", {})["/api/v2/auth/{path}"] = {m: _operation(m) for m in METHODS}
    return result
