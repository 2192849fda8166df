"""Errors as application/problem+json (RFC 9457) with the contract's stable ``code``s."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestUnsupportedContentType, RequestValidationError

from trial_edge.identity import Unauthenticated
from trial_edge.problem_catalogue import PROBLEM_JSON, problem_body, status_of, stop_detail
from trial_edge.schemas.common import FieldError
from trial_edge.strict_json import loads, out_of_range_message
from trial_ledger import AdmissionRefused, InvalidRequest, LedgerError, TemporarilyUnavailable


def problem(
    code: str, detail: str, errors: list[FieldError] | None = None, headers: dict[str, str] | None = None
) -> Response[str]:
    field_errors = [error.model_dump() for error in errors] if errors else None
    return Response(
        status_code=status_of(code),
        content_type=PROBLEM_JSON,
        body=json.dumps(problem_body(code, detail, field_errors), separators=(",", ":")),
        headers=headers,
    )


def field_path(parts: Sequence[str | int]) -> str:
    """A location as clients write it: ``models[3]``, ``note.items[0]``; ``body`` for the whole."""
    name = ""
    for part in parts:
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else str(part))
    return name or "body"


def _field_name(location: tuple[Any, ...]) -> str:
    # Pydantic locations start with where the value came from ("body", "query"); the client
    # thinks in field paths: models[3], quantity.
    return field_path([part for part in location if part not in ("body", "query", "path", "header")])


def issue_message(issue: Mapping[str, Any]) -> str:
    """What a Pydantic validation issue says to the client; an integer too long to be any number
    of the contract (``trial_edge.strict_json``) is "out of range", not "not an integer"."""
    return out_of_range_message(issue) or str(issue.get("msg", ""))


class HttpResolver(APIGatewayHttpResolver):
    """Powertools' resolver, with a path parameter that is any non-empty path segment.

    API Gateway has routed the request before the function runs, and hands it the path decoded;
    Powertools routes again, matching a parameter with ``\\w`` and a few symbols, so an id with a
    NUL, a control character, a symbol (``©``, ``☃``), a quote or a backslash matched no route and
    was a 404 "no such route". The route answers it instead: 422 when it breaks the id rules."""

    @staticmethod
    def _compile_regex(rule: str, base_regex: str = r"^{}\Z") -> re.Pattern[str]:
        return re.compile(base_regex.format(re.sub(r"<(\w+)>", r"(?P<\1>[^/]+)", rule)))


def json_api(logger: Logger) -> APIGatewayHttpResolver:
    """A resolver that validates requests against the routes' Pydantic models and answers every
    error as problem+json. It parses bodies as the body guard does (``trial_edge.strict_json``)."""
    app = HttpResolver(enable_validation=True, json_body_deserializer=loads)
    install_problem_handlers(app, logger)
    return app


def install_problem_handlers(app: APIGatewayHttpResolver, logger: Logger) -> None:
    """Every error a route can end in becomes a problem+json response; nothing else leaks."""

    @app.exception_handler(RequestValidationError)
    def invalid_request(error: RequestValidationError) -> Response[str]:
        issues = list(error.errors())
        if any(issue.get("type") == "json_invalid" for issue in issues):
            return problem("malformed_json", "the body is not valid JSON")
        fields = [FieldError(field=_field_name(tuple(issue.get("loc", ()))), message=issue_message(issue))
                  for issue in issues]  # fmt: skip
        return problem("validation_error", "the request does not match the schema", errors=fields)

    @app.exception_handler(RequestUnsupportedContentType)
    def unsupported_media_type(_: RequestUnsupportedContentType) -> Response[str]:
        return problem("unsupported_media_type", "send the body as application/json")

    _install_ledger_problems(app)

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


def _install_ledger_problems(app: APIGatewayHttpResolver) -> None:
    """The ledger's refusals: a refused argument, a stop reason (R7), unavailability (with
    Retry-After), a domain error."""

    @app.exception_handler(InvalidRequest)
    def refused_argument(error: InvalidRequest) -> Response[str]:
        return problem("validation_error", error.detail, errors=[FieldError(field=error.field, message=error.detail)])

    @app.exception_handler(AdmissionRefused)
    def refused_admission(error: AdmissionRefused) -> Response[str]:
        # The detail and its advice come from the catalogue, not from the ledger's message.
        return problem(error.code, stop_detail(error.code, error.model_id))

    @app.exception_handler(TemporarilyUnavailable)
    def unavailable(error: TemporarilyUnavailable) -> Response[str]:
        return problem(error.code, error.detail, headers={"Retry-After": str(error.retry_after_seconds)})

    @app.exception_handler(LedgerError)
    def domain_error(error: LedgerError) -> Response[str]:
        return problem(error.code, error.detail)
