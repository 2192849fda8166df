"""The records of POST /v1/usage/batch: each validated as a POST /v1/usage body, and the answers
put back in the request's order. A record that is not such a body, whatever it holds (another
JSON type, an integer too long for any number, an unknown field), is refused in its place."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from pydantic import ValidationError

from trial_edge.problem_catalogue import status_of
from trial_edge.problems import field_path, issue_message
from trial_edge.schemas.gateway import RecordRefusalOut, UsageBatchOut, UsageRequest, usage_out
from trial_ledger import RecordOutcome, RecordRefusal, UsageAsk, UsageResult
from trial_ledger.limits import ID_PATTERN


def parse_records(records: Sequence[Any]) -> list[UsageAsk | RecordRefusal]:
    """Each record as a usage to record, or its validation_error when it breaks the schema."""
    return [_parse(record) for record in records]


def record_in_order(
    record: Callable[[list[UsageAsk]], list[RecordOutcome]], parsed: Sequence[UsageAsk | RecordRefusal]
) -> list[RecordOutcome]:
    """Record the valid records in one ledger call (none when no record is valid); every answer
    in its record's place."""
    asks = [entry for entry in parsed if isinstance(entry, UsageAsk)]
    recorded = iter(record(asks) if asks else [])
    return [next(recorded) if isinstance(entry, UsageAsk) else entry for entry in parsed]


def batch_out(outcomes: Sequence[RecordOutcome]) -> UsageBatchOut:
    return UsageBatchOut(results=[_outcome_out(outcome) for outcome in outcomes])


def _outcome_out(outcome: RecordOutcome) -> Any:
    if isinstance(outcome, UsageResult):
        return usage_out(outcome)
    return RecordRefusalOut(
        request_id=outcome.request_id, status=status_of(outcome.code), code=outcome.code, detail=outcome.detail
    )


def _parse(record: Any) -> UsageAsk | RecordRefusal:
    if not isinstance(record, dict):
        return RecordRefusal(None, "validation_error", "record: must be a JSON object, a body of POST /v1/usage")
    try:
        body = UsageRequest.model_validate(record)
    except ValidationError as error:
        detail = "; ".join(f"{field_path(issue['loc']) if issue['loc'] else 'record'}: {issue_message(issue)}"
                           for issue in error.errors())  # fmt: skip
        return RecordRefusal(_request_id(record), "validation_error", detail)
    return UsageAsk(**body.model_dump())


def _request_id(record: dict[str, Any]) -> str | None:
    """The record's request_id when it is one (to tell the answers apart), else null."""
    request_id = record.get("request_id")
    return request_id if isinstance(request_id, str) and ID_PATTERN.fullmatch(request_id) else None
