"""Errors as application/problem+json (RFC 9457) with the contract's stable ``code``s."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestUnsupportedContentType, RequestValidationError

from trial_edge.identity import Unauthenticated
from trial_edge.schemas import FieldError, Problem
from trial_ledger import InvalidRequest, LedgerError, TemporarilyUnavailable

PROBLEM_JSON = "application/problem+json"

STATUS_BY_CODE = {
    "malformed_json": HTTPStatus.BAD_REQUEST,
    "unauthenticated": HTTPStatus.UNAUTHORIZED,
    "free_quota_exhausted": HTTPStatus.PAYMENT_REQUIRED,
    "free_quota_expired": HTTPStatus.PAYMENT_REQUIRED,
    "no_free_quota": HTTPStatus.PAYMENT_REQUIRED,
    "account_not_activated": HTTPStatus.FORBIDDEN,
    "unknown_model": HTTPStatus.NOT_FOUND,
    "not_found": HTTPStatus.NOT_FOUND,
    "request_id_conflict": HTTPStatus.CONFLICT,
    "payload_too_large": HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
    "unsupported_media_type": HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
    "validation_error": HTTPStatus.UNPROCESSABLE_ENTITY,
    "internal_error": HTTPStatus.INTERNAL_SERVER_ERROR,
    "temporarily_unavailable": HTTPStatus.SERVICE_UNAVAILABLE,
}


def problem(
    code: str, detail: str, errors: list[FieldError] | None = None, headers: dict[str, str] | None = None
) -> Response[str]:
    status = STATUS_BY_CODE[code]
    body = Problem(
        type=f"urn:tokenhub:trial-quota:problem:{code}",
        title=status.phrase,
        status=int(status),
        detail=detail,
        code=code,
        errors=errors,
    )
    return Response(
        status_code=int(status),
        content_type=PROBLEM_JSON,
        body=body.model_dump_json(exclude_none=True),
        headers=headers,
    )


def _field_name(location: tuple[Any, ...]) -> str:
    # Pydantic locations start with where the value came from ("body", "query"); the client
    # thinks in field paths: models[3], quantity.
    parts = [part for part in location if part not in ("body", "query", "path", "header")]
    name = ""
    for part in parts:
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else str(part))
    return name or "body"


def json_api(logger: Logger) -> APIGatewayHttpResolver:
    """A resolver that validates requests against the routes' Pydantic models and answers every
    error as problem+json."""
    app = APIGatewayHttpResolver(enable_validation=True)
    install_problem_handlers(app, logger)
    return app


def install_problem_handlers(app: APIGatewayHttpResolver, logger: Logger) -> None:
    """Every error a route can end in becomes a problem+json response; nothing else leaks."""

    @app.exception_handler(RequestValidationError)
    def invalid_request(error: RequestValidationError) -> Response[str]:
        issues = list(error.errors())
        if any(issue.get("type") == "json_invalid" for issue in issues):
            return problem("malformed_json", "the body is not valid JSON")
        fields = [FieldError(field=_field_name(tuple(issue.get("loc", ()))), message=str(issue.get("msg", "")))
                  for issue in issues]  # fmt: skip
        return problem("validation_error", "the request does not match the schema", errors=fields)

    @app.exception_handler(RequestUnsupportedContentType)
    def unsupported_media_type(_: RequestUnsupportedContentType) -> Response[str]:
        return problem("unsupported_media_type", "send the body as application/json")

    @app.exception_handler(InvalidRequest)
    def refused_argument(error: InvalidRequest) -> Response[str]:
        return problem("validation_error", error.detail, errors=[FieldError(field=error.field, message=error.detail)])

    @app.exception_handler(TemporarilyUnavailable)
    def unavailable(error: TemporarilyUnavailable) -> Response[str]:
        return problem(error.code, error.detail, headers={"Retry-After": str(error.retry_after_seconds)})

    @app.exception_handler(LedgerError)
    def domain_error(error: LedgerError) -> Response[str]:
        return problem(error.code, error.detail)

    @app.exception_handler(Unauthenticated)
    def unauthenticated(error: Unauthenticated) -> Response[str]:
        return problem("unauthenticated", str(error))

    @app.not_found
    def no_route(_: Exception) -> Response[str]:
        return problem("not_found", "no such route")

    @app.exception_handler(Exception)
    def unexpected(error: Exception) -> Response[str]:
        logger.exception("unhandled error")
        return problem("internal_error", "the service failed; the error was logged")
