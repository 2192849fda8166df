"""Refuse request bodies the contract does not accept before Powertools parses them.

Powertools' request validation also understands form and multipart bodies, and when a route has a
single body model it unwraps a JSON array to its first element (meant for form fields). Neither
belongs here: a body is a JSON object, sent as JSON, or it is refused:

- a Content-Type that is not JSON (``application/json`` or ``type/subtype+json``, in any case, with
  any parameters; no Content-Type is JSON too): 415;
- not UTF-8, not JSON, JSON with ``NaN``/``Infinity`` (not JSON by RFC 8259), or an object that
  repeats a key, at any depth: 400 (``trial_edge.strict_json``);
- JSON that is not an object (an array, a string, a number): 422;
- JSON nested deeper than 32 levels: 422 naming the field (``trial_edge.json_bounds``).

An integer with more digits than any number of the contract is not refused here: the parser keeps
it as a marker that validation refuses where it stands (a field of the body; in a batch, the
record it is in, in its place).

An accepted body reaches Powertools with ``Content-Type: application/json``, the only spelling
its parser takes for JSON."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.utilities.typing import LambdaContext

from trial_edge.json_bounds import first_too_deep, is_too_deep, too_deep
from trial_edge.principals import Principals, caller_arn
from trial_edge.problems import problem
from trial_edge.schemas.common import FieldError
from trial_edge.strict_json import RepeatedKey, loads

_logger = Logger(child=True)


def is_json_media_type(content_type: str) -> bool:
    """``application/json`` or a structured ``+json`` type, compared case-insensitively (RFC 9110)."""
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type in ("", "application/json"):
        return True
    kind, _, subtype = media_type.partition("/")
    return bool(kind) and subtype.endswith("+json") and subtype != "+json"


def _parse(event: dict[str, Any]) -> Any:
    raw = event["body"]
    return loads(base64.b64decode(raw, validate=True) if event.get("isBase64Encoded") else raw)


def refuse_unacceptable_body(event: dict[str, Any]) -> Response[str] | None:
    """A problem response for a body the API does not accept, or None to go on."""
    if event.get("body") in (None, ""):
        return None
    headers = {name.lower(): value for name, value in (event.get("headers") or {}).items()}
    if not is_json_media_type(headers.get("content-type", "")):
        return problem("unsupported_media_type", "send the body as application/json")
    try:
        value = _parse(event)
    except RecursionError:
        return problem("validation_error", "the body nests too deep", errors=[too_deep(())])
    except RepeatedKey as repeated:
        return problem("malformed_json", f"the body is not valid JSON: {repeated.msg}")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return problem("malformed_json", "the body is not valid JSON")
    return _refuse_shape(value)


def _refuse_shape(value: Any) -> Response[str] | None:
    """A problem for a parsed body that is not an object within the bounds, or None."""
    if not isinstance(value, dict):
        return problem(
            "validation_error",
            "the body must be a JSON object",
            errors=[FieldError(field="body", message="must be a JSON object")],
        )
    if is_too_deep(value):
        return problem("validation_error", "the body nests too deep", errors=[first_too_deep(value)])
    return None


def _with_json_content_type(event: dict[str, Any]) -> dict[str, Any]:
    headers = {name: value for name, value in (event.get("headers") or {}).items() if name.lower() != "content-type"}
    return event | {"headers": headers | {"content-type": "application/json"}}


def as_proxy_response(response: Response[str]) -> dict[str, Any]:
    """The API Gateway payload-2.0 answer for a response made before the resolver ran."""
    headers = {"Content-Type": response.headers.get("Content-Type", "application/problem+json")}
    return {"statusCode": response.status_code, "headers": headers, "body": response.body, "isBase64Encoded": False}


def refuse_principal(event: dict[str, Any], admits: Principals) -> Response[str] | None:
    """R21: an IAM route answers only the principals the deploy names; any other is refused before
    its body is read, and nothing is written."""
    arn = caller_arn(event)
    if arn is None:
        return problem("unauthenticated", "these routes need an IAM-signed request")
    if not admits.admit(arn):
        return problem("forbidden_principal", "this principal may not call these routes")
    return None


def resolve(
    app: APIGatewayHttpResolver, event: dict[str, Any], context: LambdaContext, admits: Principals | None = None
) -> dict[str, Any]:
    """Hand the event to the resolver unless its caller (IAM routes: ``admits``) or its body is
    refused first. Whatever fails on the way, in the guard or in Powertools outside a route, is a
    problem+json 500, not Lambda's own error."""
    try:
        if admits is not None and (refused := refuse_principal(event, admits)):
            return as_proxy_response(refused)
        if refused := refuse_unacceptable_body(event):
            return as_proxy_response(refused)
        return app.resolve(_with_json_content_type(event), context)
    except Exception:
        _logger.exception("unhandled error outside the routes")
        return as_proxy_response(problem("internal_error", "the service failed; the error was logged"))
