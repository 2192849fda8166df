"""OpenAPI response declarations shared by the routes: which problems each route can answer."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

from trial_edge.schemas import Problem

_DESCRIPTIONS = {
    400: "malformed_json: the body is not JSON",
    401: "unauthenticated: no identity in the request",
    402: "free_quota_exhausted, free_quota_expired or no_free_quota, with postpaid off",
    403: "account_not_activated",
    404: "unknown_model",
    409: "request_id_conflict: the request_id was recorded with another body",
    422: "validation_error: the body or query breaks the schema; `errors` lists the fields",
    503: "temporarily_unavailable: DynamoDB kept throttling; retry after `Retry-After` seconds",
}


def _example(status: int) -> dict[str, Any]:
    code = _DESCRIPTIONS[status].split(":", 1)[0].split(",", 1)[0].strip()
    return {"summary": code, "value": {"type": f"urn:tokenhub:trial-quota:problem:{code}", "title": code,
                                       "status": status, "detail": "...", "code": code}}  # fmt: skip


def problems(*statuses: int) -> dict[int, OpenAPIResponse]:
    """The 200 response (its schema comes from the route's return type) and the problem responses
    for ``statuses`` (401, 422 and 503 are possible on every route)."""
    responses: dict[int, OpenAPIResponse] = {200: {"description": "OK"}}
    for status in sorted({*statuses, 401, 422, 503}):
        response: OpenAPIResponse = {
            "description": _DESCRIPTIONS[status],
            "content": {"application/problem+json": {"model": Problem, "examples": {"problem": _example(status)}}},
        }
        if status == 503:
            response["headers"] = {"Retry-After": {"description": "seconds to wait", "schema": {"type": "integer"}}}
        responses[status] = response
    return responses
