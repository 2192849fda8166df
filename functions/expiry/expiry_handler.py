"""Nightly expiry: the EventBridge Scheduler schedule invokes this with its scheduled time as
``as_of``; every grant due by then has its unused remainder recorded as expired, exactly once.

A run that nears the Lambda time limit stops cleanly and invokes this function again,
asynchronously, with the same ``as_of`` (at most MAX_CONTINUATIONS times in a row); what is left
is still in the sparse index, so the continuation simply carries on. Past the bound it logs an
error and emits ``ExpiryIncomplete``, and the next nightly run catches up anyway."""

import json
from datetime import datetime
from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from trial_ledger import Ledger, parse_timestamp

SAFETY_MARGIN_MS = 60_000
"""Stop taking new candidates this long before the Lambda time limit (a page of expiries plus
slack)."""
MAX_CONTINUATIONS = 20

logger = Logger()
tracer = Tracer()
metrics = Metrics()
ledger = Ledger()


@cache
def _lambda_client() -> Any:
    return boto3.client("lambda")


def continue_later(payload: dict[str, Any], context: LambdaContext) -> None:
    """Invoke this function again, asynchronously, to finish the run."""
    _lambda_client().invoke(
        FunctionName=context.invoked_function_arn, InvocationType="Event", Payload=json.dumps(payload).encode()
    )


def _as_of(event: dict[str, Any]) -> str | None:
    value = event.get("as_of") if isinstance(event, dict) else None
    return value if isinstance(value, str) and value else None


HOLD_SWEEP = "hold-sweep"
"""The ``job`` of the HoldSweep schedule's input; no ``job`` is the nightly expiry."""


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    text = _as_of(event)
    as_of = parse_timestamp(text) if text else ledger.clock.now()
    continuation = int(event.get("continuation", 0)) if isinstance(event, dict) else 0
    if isinstance(event, dict) and event.get("job") == HOLD_SWEEP:
        return sweep_holds(as_of, continuation, context)
    report = ledger.expire_due(as_of, keep_going=lambda: context.get_remaining_time_in_millis() > SAFETY_MARGIN_MS)
    metrics.add_metric(name="ExpiredGrants", unit=MetricUnit.Count, value=report.expired_grants)
    metrics.add_metric(name="ExpiredUnits", unit=MetricUnit.Count, value=report.expired_quantity)
    summary = {
        "as_of": report.as_of,
        "expired_grants": report.expired_grants,
        "expired_quantity": report.expired_quantity,
        "complete": report.complete,
    }
    logger.info("expiry run", extra=summary | {"continuation": continuation})
    if not report.complete:
        if continuation < MAX_CONTINUATIONS:
            continue_later({"as_of": report.as_of, "continuation": continuation + 1}, context)
        else:
            metrics.add_metric(name="ExpiryIncomplete", unit=MetricUnit.Count, value=1)
            logger.error("expiry still incomplete after the last continuation; the next run continues", extra=summary)
    return summary


def sweep_holds(as_of: datetime, continuation: int, context: LambdaContext) -> dict[str, Any]:
    """Close the holds timed out by ``as_of``; continues itself as the nightly run does."""
    report = ledger.sweep_holds(as_of, keep_going=lambda: context.get_remaining_time_in_millis() > SAFETY_MARGIN_MS)
    metrics.add_metric(name="HoldsTimedOut", unit=MetricUnit.Count, value=report.closed_holds)
    summary = {"as_of": report.as_of, "closed_holds": report.closed_holds,
               "returned_units": report.returned_units, "complete": report.complete}  # fmt: skip
    logger.info("hold sweep", extra=summary | {"continuation": continuation})
    if not report.complete:
        if continuation < MAX_CONTINUATIONS:
            continue_later({"job": HOLD_SWEEP, "as_of": report.as_of, "continuation": continuation + 1}, context)
        else:
            metrics.add_metric(name="HoldSweepIncomplete", unit=MetricUnit.Count, value=1)
            logger.error("hold sweep still incomplete after the last continuation", extra=summary)
    return summary
