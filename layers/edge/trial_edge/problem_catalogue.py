"""Every problem the API answers with, in one table: code -> status, title, description.

The problem+json bodies (``trial_edge.problems``), the OpenAPI responses (``trial_edge.responses``)
and the local emulator's own answers are all built from it, and ``tests/meta/test_docs.py`` holds the
table in docs/api.md to it. Plain Python, no Powertools or Pydantic, so that anything may import it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

PROBLEM_TYPE_PREFIX = "urn:tokenhub:trial-quota:problem:"
PROBLEM_JSON = "application/problem+json"


@dataclass(frozen=True, slots=True)
class ProblemKind:
    """One kind of problem the API answers: its HTTP status, title and code."""

    status: HTTPStatus
    title: str
    """The same for every occurrence of the problem (RFC 9457); ``detail`` says what happened."""
    description: str
    """When it is answered: the OpenAPI response description."""
    local_only: bool = False
    """Answered only by the local stack's HTTP layer (API Gateway frames and identifies in AWS)."""
    advice: str = ""
    """What the caller can do about it, for the stop reasons (R7): the end of their ``detail``
    (``trial_edge.problems``) and of their OpenAPI description. This table is its one source."""


ENABLE_POSTPAID = "enable postpaid to continue"


CATALOGUE: dict[str, ProblemKind] = {
    "malformed_json": ProblemKind(
        HTTPStatus.BAD_REQUEST,
        "Malformed JSON",
        "the body is not UTF-8 JSON (RFC 8259: no NaN or Infinity), or an object in it repeats a key",
    ),
    "malformed_request": ProblemKind(
        HTTPStatus.BAD_REQUEST,
        "Malformed request",
        "the request is not framed as HTTP/1.1 allows (Content-Length, Transfer-Encoding, request line)",
        local_only=True,
    ),
    "ambiguous_identity": ProblemKind(
        HTTPStatus.BAD_REQUEST,
        "Ambiguous identity",
        "X-Account-Id or X-Sub-Account-Id was sent more than once",
        local_only=True,
    ),
    "invalid_cursor": ProblemKind(
        HTTPStatus.BAD_REQUEST,
        "Invalid cursor",
        "the cursor is not a next_cursor this listing issued (altered, cut short, of another account, filter or "
        "index layout): list again without it",
    ),
    "unauthenticated": ProblemKind(
        HTTPStatus.UNAUTHORIZED,
        "Unauthenticated",
        "no usable identity: no account claim, a sub that is not an id, or no IAM principal",
    ),
    "free_quota_exhausted": ProblemKind(
        HTTPStatus.PAYMENT_REQUIRED,
        "Free quota exhausted",
        "the trial is used up and postpaid is off",
        advice=ENABLE_POSTPAID,
    ),
    "free_quota_expired": ProblemKind(
        HTTPStatus.PAYMENT_REQUIRED,
        "Free quota expired",
        "the trial's validity has ended and postpaid is off",
        advice=ENABLE_POSTPAID,
    ),
    "no_free_quota": ProblemKind(
        HTTPStatus.PAYMENT_REQUIRED,
        "No free quota",
        "the model has no trial, or the campaign closed before one was claimed, and postpaid is off",
        advice=ENABLE_POSTPAID,
    ),
    "free_quota_held": ProblemKind(
        HTTPStatus.PAYMENT_REQUIRED,
        "Free quota held",
        "free units remain but live holds of other requests reserve all of them and postpaid is off",
        advice="retryable: retry when those calls end, as their holds return what they do not use "
        "(or enable postpaid to continue now)",
    ),
    "free_quota_voided": ProblemKind(
        HTTPStatus.PAYMENT_REQUIRED,
        "Free quota voided",
        "an operator voided the trial (R18) and postpaid is off",
        advice=ENABLE_POSTPAID,
    ),
    "forbidden_principal": ProblemKind(
        HTTPStatus.FORBIDDEN,
        "Forbidden principal",
        "the signed principal is not one these routes admit (the deploy's gateway or operator roles)",
    ),
    "account_not_activated": ProblemKind(
        HTTPStatus.FORBIDDEN, "Account not activated", "the account has not activated TokenHub"
    ),
    "unknown_model": ProblemKind(HTTPStatus.NOT_FOUND, "Unknown model", "the model is not in the catalog"),
    "hold_not_found": ProblemKind(HTTPStatus.NOT_FOUND, "Hold not found", "no hold ever had this request_id"),
    "usage_not_found": ProblemKind(
        HTTPStatus.NOT_FOUND, "Usage not found", "no usage was ever recorded with this request_id"
    ),
    "grant_not_found": ProblemKind(HTTPStatus.NOT_FOUND, "Grant not found", "the account has no grant of this model"),
    "grant_not_extendable": ProblemKind(
        HTTPStatus.CONFLICT, "Grant not extendable", "the grant has expired or was voided: it cannot be extended"
    ),
    "grant_not_voidable": ProblemKind(
        HTTPStatus.CONFLICT,
        "Grant not voidable",
        "the grant has expired or was voided already: an expired grant's remainder belongs to its expiry",
    ),
    "reversal_window_closed": ProblemKind(
        HTTPStatus.CONFLICT,
        "Reversal window closed",
        "the usage was recorded longer ago than the reversal window (7 days by default) allows",
    ),
    "not_found": ProblemKind(HTTPStatus.NOT_FOUND, "Not found", "no such route"),
    "request_id_conflict": ProblemKind(
        HTTPStatus.CONFLICT, "Request id conflict", "the request_id was recorded with another body"
    ),
    "payload_too_large": ProblemKind(
        HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
        "Payload too large",
        "the body is over the local server's limit (API Gateway enforces its own 10 MB limit)",
    ),
    "unsupported_media_type": ProblemKind(
        HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
        "Unsupported media type",
        "the body is not sent as JSON (application/json or a +json type, in any case)",
    ),
    "validation_error": ProblemKind(
        HTTPStatus.UNPROCESSABLE_ENTITY,
        "Validation error",
        "the body or query breaks the schema, nests too deep or holds a number out of range; `errors` lists the fields",
    ),
    "internal_error": ProblemKind(
        HTTPStatus.INTERNAL_SERVER_ERROR,
        "Internal error",
        "an unexpected failure, logged with its stack trace; the response carries none",
    ),
    "temporarily_unavailable": ProblemKind(
        HTTPStatus.SERVICE_UNAVAILABLE,
        "Temporarily unavailable",
        "DynamoDB kept throttling; retry after `Retry-After` seconds",
    ),
}


def status_of(code: str) -> int:
    """The HTTP status of a problem ``code`` (KeyError for a code the catalogue lacks)."""
    return int(CATALOGUE[code].status)


def stop_detail(code: str, model_id: str) -> str:
    """The ``detail`` of a stop reason (R7) for ``model_id``: what happened, and its advice."""
    return f"{code.replace('_', ' ')} for model {model_id!r}; {CATALOGUE[code].advice}"


def problem_type(code: str) -> str:
    return PROBLEM_TYPE_PREFIX + code


def problem_body(code: str, detail: str, errors: Sequence[Mapping[str, str]] | None = None) -> dict[str, Any]:
    """The application/problem+json document of ``code``: ``{type, title, status, detail, code}``,
    plus ``errors: [{field, message}]`` when there are any."""
    kind = CATALOGUE[code]
    body: dict[str, Any] = {
        "type": problem_type(code),
        "title": kind.title,
        "status": int(kind.status),
        "detail": detail,
        "code": code,
    }
    if errors:
        body["errors"] = [dict(error) for error in errors]
    return body
