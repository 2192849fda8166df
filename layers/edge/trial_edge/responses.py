"""OpenAPI response declarations shared by the routes: which problems each route can answer, with
their descriptions and examples taken from the problem catalogue, and the links of a 200 to the
operations that use what it answered (a hold's settle and release, a usage's replay, the next
page): clients and the stateful fuzzing follow them."""

from __future__ import annotations

from itertools import groupby
from typing import Any

from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

from trial_edge.problem_catalogue import CATALOGUE, PROBLEM_JSON, problem_body, status_of
from trial_edge.schemas.common import Problem

EVERY_ROUTE = (
    "malformed_json",
    "unauthenticated",
    "payload_too_large",
    "unsupported_media_type",
    "validation_error",
    "internal_error",
    "temporarily_unavailable",
)
"""What any route can answer: the body guard and the identity check run before every route (a GET
with a body is checked too), and the store can fail under any of them."""


def _described(code: str) -> str:
    kind = CATALOGUE[code]
    return f"{kind.description} ({kind.advice})" if kind.advice else kind.description


def _example(code: str) -> dict[str, Any]:
    return {"summary": CATALOGUE[code].title, "value": problem_body(code, "...")}


def _problem_response(codes: list[str]) -> OpenAPIResponse:
    response: OpenAPIResponse = {
        "description": "; ".join(f"{code}: {_described(code)}" for code in codes),
        "content": {PROBLEM_JSON: {"model": Problem, "examples": {code: _example(code) for code in codes}}},
    }
    if "temporarily_unavailable" in codes:
        response["headers"] = {"Retry-After": {"description": "seconds to wait", "schema": {"type": "integer"}}}
    return response


def link(operation_id: str, description: str, parameters: dict[str, str] | None = None,
         request_body: Any = None) -> dict[str, Any]:  # fmt: skip
    """An OpenAPI link to the operation ``operation_id``; values are runtime expressions
    (``$response.body#/request_id``) or constants."""
    found: dict[str, Any] = {"operationId": operation_id, "description": description}
    if parameters:
        found["parameters"] = parameters
    if request_body is not None:
        found["requestBody"] = request_body
    return found


def problems(*codes: str, links: dict[str, dict[str, Any]] | None = None) -> dict[int, OpenAPIResponse]:
    """The 200 response (its schema comes from the route's return type, its ``links`` are given)
    and one response per status of the route's own problem ``codes`` and of the problems every
    route can answer."""
    ok: OpenAPIResponse = {"description": "OK"}
    if links:
        ok["links"] = links
    responses: dict[int, OpenAPIResponse] = {200: ok}
    answered = sorted({*codes, *EVERY_ROUTE}, key=lambda code: (status_of(code), code))
    for status, same_status in groupby(answered, key=status_of):
        responses[status] = _problem_response(list(same_status))
    return responses
