"""Refuse request bodies the contract does not accept before Powertools parses them.

Powertools' request validation also understands form and multipart bodies, and when a route has a
single body model it unwraps a JSON array to its first element (meant for form fields). Neither
belongs here: a body is a JSON object, sent as JSON, or it is refused:

- any Content-Type other than JSON (``application/json``, ``*+json``, or none): 415;
- not UTF-8, not JSON, or JSON with ``NaN``/``Infinity`` (not JSON by RFC 8259): 400;
- JSON that is not an object (an array, a string, a number): 422."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.utilities.typing import LambdaContext

from trial_edge.problems import problem
from trial_edge.schemas import FieldError


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _is_json(content_type: str) -> bool:
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type in ("", "application/json") or media_type.endswith("+json")


def refuse_unacceptable_body(event: dict[str, Any]) -> Response[str] | None:
    """A problem response for a body the API does not accept, or None to go on."""
    raw = event.get("body")
    if raw is None or raw == "":
        return None
    headers = {name.lower(): value for name, value in (event.get("headers") or {}).items()}
    if not _is_json(headers.get("content-type", "")):
        return problem("unsupported_media_type", "send the body as application/json")
    try:
        text = base64.b64decode(raw, validate=True).decode("utf-8") if event.get("isBase64Encoded") else raw
        value = json.loads(text, parse_constant=_reject_constant)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return problem("malformed_json", "the body is not valid JSON")
    if not isinstance(value, dict):
        return problem(
            "validation_error",
            "the body must be a JSON object",
            errors=[FieldError(field="body", message="must be a JSON object")],
        )
    return None


def as_proxy_response(response: Response[str]) -> dict[str, Any]:
    """The API Gateway payload-2.0 answer for a response made before the resolver ran."""
    headers = {"Content-Type": response.headers.get("Content-Type", "application/problem+json")}
    return {"statusCode": response.status_code, "headers": headers, "body": response.body, "isBase64Encoded": False}


def resolve(app: APIGatewayHttpResolver, event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Hand the event to the resolver, unless its body is refused first."""
    if refused := refuse_unacceptable_body(event):
        return as_proxy_response(refused)
    return app.resolve(event, context)
