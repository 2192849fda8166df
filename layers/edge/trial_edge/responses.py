"""OpenAPI response declarations shared by the routes: which problems each route can answer, with
their descriptions and examples taken from the problem catalogue."""

from __future__ import annotations

from itertools import groupby
from typing import Any

from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

from trial_edge.problem_catalogue import CATALOGUE, PROBLEM_JSON, problem_body, status_of
from trial_edge.response_models import Problem

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


def _example(code: str) -> dict[str, Any]:
    return {"summary": CATALOGUE[code].title, "value": problem_body(code, "...")}


def _problem_response(codes: list[str]) -> OpenAPIResponse:
    response: OpenAPIResponse = {
        "description": "; ".join(f"{code}: {CATALOGUE[code].description}" for code in codes),
        "content": {PROBLEM_JSON: {"model": Problem, "examples": {code: _example(code) for code in codes}}},
    }
    if "temporarily_unavailable" in codes:
        response["headers"] = {"Retry-After": {"description": "seconds to wait", "schema": {"type": "integer"}}}
    return response


def problems(*codes: str) -> dict[int, OpenAPIResponse]:
    """The 200 response (its schema comes from the route's return type) and one response per status
    of the route's own problem ``codes`` and of the problems every route can answer."""
    responses: dict[int, OpenAPIResponse] = {200: {"description": "OK"}}
    answered = sorted({*codes, *EVERY_ROUTE}, key=lambda code: (status_of(code), code))
    for status, same_status in groupby(answered, key=status_of):
        responses[status] = _problem_response(list(same_status))
    return responses
