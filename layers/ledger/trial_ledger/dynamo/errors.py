"""Tells DynamoDB failures apart: transient ones (throttling, timeouts) become StoreUnavailable."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import botocore.exceptions
from pynamodb.exceptions import PynamoDBConnectionError, PynamoDBException

TRANSIENT_ERROR_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
        "TransactionInProgressException",
        "TransactionConflictException",
    }
)
TRANSIENT_CANCELLATION_CODES = frozenset({"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"})
"""Cancellation reasons that say nothing about the item: another attempt may well succeed."""
CONDITION_FAILED = "ConditionalCheckFailedException"
TRANSACTION_CANCELLED = "TransactionCanceledException"


class StoreUnavailable(Exception):
    """DynamoDB throttled, conflicted or timed out after the client's own retries."""


def cause_code(error: PynamoDBException) -> str | None:
    """The DynamoDB error code behind a PynamoDB exception, if a response carried one."""
    # Not PynamoDB's cause_response_code: it fails on botocore errors whose response is None
    # (a read timeout), exactly when the code matters most.
    response = getattr(error.cause, "response", None)
    if not isinstance(response, dict):
        return None
    code = response.get("Error", {}).get("Code")
    return code if isinstance(code, str) else None


def is_transient(error: PynamoDBException) -> bool:
    if cause_code(error) in TRANSIENT_ERROR_CODES:
        return True
    return isinstance(error.cause, botocore.exceptions.ConnectionError | botocore.exceptions.HTTPClientError)


def is_condition_failure(error: PynamoDBException) -> bool:
    return cause_code(error) == CONDITION_FAILED


@contextmanager
def unavailable_on_transient() -> Iterator[None]:
    """Turn throttling and timeouts that outlived botocore's retries into StoreUnavailable."""
    try:
        yield
    except PynamoDBConnectionError as error:
        if is_transient(error):
            raise StoreUnavailable(str(error)) from error
        raise
