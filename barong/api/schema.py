"""OpenAPI generation: the gateway copy of each operation gets its own operationId."""

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
