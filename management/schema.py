"""OpenAPI for the management API: every body is a multisig JWS whose ``data`` is described."""

import functools
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response

from management.params import MISSING, Param

JSON_TYPES = {"string": "string", "boolean": "boolean", "integer": "integer"}


class JWSHeaderSerializer(serializers.Serializer):
    kid = serializers.CharField(help_text="The signer's name in the keychain")


class JWSSignatureSerializer(serializers.Serializer):
    protected = serializers.CharField(help_text='base64url of {"alg": "RS256"} (or ES256, …)')
    header = JWSHeaderSerializer()
    signature = serializers.CharField(help_text="base64url signature of protected.payload")


class JWSSerializer(serializers.Serializer):
    """A JWS in JSON general serialization (RFC 7515, 7.2.1), as the jwt-multisig gem makes."""

    payload = serializers.CharField(
        help_text="base64url of the JSON claims: exp (required), iat, jti and data (the call's "
        "parameters, described in the operation)"
    )
    signatures = JWSSignatureSerializer(many=True)


class ManagementErrorSerializer(serializers.Serializer):
    error = serializers.JSONField(help_text="A message, or a list of messages")


def _param_line(param: Param) -> str:
    kind = {
        "date": "date YYYY-MM-DD",
        "hash": "object",
        "raw": "string, checked by the operation itself",
    }.get(param.type, param.type)
    notes = ["required" if param.required else "optional"]
    if not param.allow_blank:
        notes.append("not blank")
    if param.default is not MISSING:
        notes.append(f"default {json.dumps(param.default)}")
    return f"- `{param.name}` ({kind}; {', '.join(notes)})"


def _description(scope: str, params: Iterable[Param]) -> str:
    lines = [
        f"Security scope `{scope}`: signed by the scope's mandatory signers (keychain of "
        "`BARONG_MANAGEMENT_API_CONFIG`). POST/PUT only, no query string, "
        "`Content-Type: application/json`.",
        "",
        "Parameters, inside the signed payload's `data` object:",
    ]
    params = list(params)
    lines += [_param_line(p) for p in params] if params else ["- none"]
    return "\n".join(lines)


def management_schema(
    *, scope: str, summary: str, params: Iterable[Param], output: Any, status: int
):
    """Document one management operation: JWS body, its ``data``, answer and errors."""
    if output == "jws":
        output = JWSSerializer
    elif isinstance(output, dict):
        output = inline_serializer(
            name="ManagementTimestamp", fields={"timestamp": serializers.IntegerField()}
        )
    responses: dict[int, Any] = {status: output if output is not None else OpenApiResponse()}
    errors = {
        400: "Query string, content type other than application/json, or a body that is not JSON",
        401: "Failed to verify JWT. / Not enough signatures for the action.",
        404: "Record is not found",
        405: "Only POST and PUT verbs are allowed.",
        422: "Parameter or validation errors, in Barong's words",
    }
    for code, text in errors.items():
        responses[code] = OpenApiResponse(ManagementErrorSerializer, description=text)
    return extend_schema(
        summary=summary,
        description=_description(scope, params),
        request=JWSSerializer,
        responses=responses,
        auth=[],
        operation_id=None,
    )


@dataclass(frozen=True)
class Operation:
    """What one management handler declares once: the scope whose signers must sign the call
    and the parameters of its ``data``. ``ManagementView`` checks and parses by it, the
    OpenAPI document describes it."""

    scope: str
    params: tuple[Param, ...]
    exactly_one_of: tuple[str, ...] = ()


def management_operation(
    *,
    scope: str,
    summary: str,
    params: Iterable[Param],
    output: Any,
    status: int,
    exactly_one_of: tuple[str, ...] = (),
) -> Callable[[Callable], Callable]:
    """Declare a handler (``post``/``put``) of a ``ManagementView``: its ``Operation``, read by
    the view before the handler runs, and its schema, from the same words."""
    operation = Operation(scope=scope, params=tuple(params), exactly_one_of=exactly_one_of)
    render = _renderer(output, status)

    def declare(handler: Callable) -> Callable:
        @functools.wraps(handler)
        def answer(view, request, *args: Any, **kwargs: Any) -> Response:
            result = handler(view, request, *args, **kwargs)
            return result if isinstance(result, Response) else render(result)

        answer.management_operation = operation
        return management_schema(
            scope=scope, summary=summary, params=operation.params, output=output, status=status
        )(answer)

    return declare


def _renderer(output: Any, status: int) -> Callable[[Any], Response]:
    """The answer of a handler's result, as its declaration documents it: the declared
    serializer (one object, or ``many``), a plain body (the JWS, the timestamp), or none."""
    if isinstance(output, serializers.ListSerializer):
        child = type(output.child)
        return lambda rows: Response(child(rows, many=True).data, status=status)
    if isinstance(output, type) and issubclass(output, serializers.BaseSerializer):
        return lambda instance: Response(output(instance).data, status=status)
    if output is None:
        # No entity: an empty object, or no body at all for 204.
        return lambda _: Response(None if status == 204 else {}, status=status)
    return lambda body: Response(body, status=status)
