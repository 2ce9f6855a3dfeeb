"""OpenAPI generation: the gateway copy of each operation gets its own operationId."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema


class BarongAutoSchema(AutoSchema):
    """Both trees are documented; ``/api/v2/barong/…`` operations end in ``_gateway``."""

    def get_operation_id(self) -> str:
        operation_id = super().get_operation_id()
        if self.path.startswith("/api/v2/barong/"):
            return f"{operation_id}_gateway"
        return operation_id

    def get_tags(self) -> list[str]:
        parts = [p for p in self.path.split("/") if p and p not in ("api", "v2", "barong")]
        return [parts[0]] if parts else ["general"]


class BearerJWTScheme(OpenApiAuthenticationExtension):
    """Documents ``Authorization: Bearer <JWT>`` (RS256, minted by authz or the gateway)."""

    target_class = "accounts.authentication.BearerJWTAuthentication"
    name = "BearerToken"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}


class SessionCookieScheme(OpenApiAuthenticationExtension):
    """Documents the ``_barong_session`` cookie (send ``X-CSRF-Token`` on unsafe methods)."""

    target_class = "accounts.authentication.SessionCookieAuthentication"
    name = "SessionCookie"

    def get_security_definition(self, auto_schema):
        from django.conf import settings

        return {"type": "apiKey", "in": "cookie", "name": settings.SESSION_COOKIE_NAME}
