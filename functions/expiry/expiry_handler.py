"""Nightly expiry: the EventBridge Scheduler schedule invokes this with its scheduled time as
``as_of``; every grant due by then has its unused remainder recorded as expired, exactly once.
Then it marks the grants that expire within ``EXPIRING_SOON_DAYS`` after ``as_of``, once each
(the table's stream turns both into ledger events).

A run that nears the Lambda time limit stops cleanly and invokes this function again,
asynchronously, with the same ``as_of`` (at most MAX_CONTINUATIONS times in a row); what is left
is still in the sparse index, so the continuation simply carries on. Past the bound it logs an
error and emits ``ExpiryIncomplete``, and the next nightly run catches up anyway."""

import json
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from trial_ledger import Ledger, load_settings, parse_timestamp

SAFETY_MARGIN_MS = 60_000
"""Stop taking new candidates this long before the Lambda time limit (a page of expiries plus
slack)."""
MAX_CONTINUATIONS = 20

logger = Logger()
metrics = Metrics()
ledger = Ledger()
expiring_soon_window = timedelta(days=load_settings().expiring_soon_days)


@cache
def _lambda_client() -> Any:
    # Imported here: only a run that outlives its time budget needs it, and boto3 (with
    # s3transfer) would otherwise be a third of every cold start.
    import boto3  # noqa: PLC0415

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
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    text = _as_of(event)
    as_of = parse_timestamp(text) if text else ledger.clock.now()
    continuation = int(event.get("continuation", 0)) if isinstance(event, dict) else 0
    if isinstance(event, dict) and event.get("job") == HOLD_SWEEP:
        return sweep_holds(as_of, continuation, context)

    def keep_going() -> bool:
        return context.get_remaining_time_in_millis() > SAFETY_MARGIN_MS

    report = ledger.expire_due(as_of, keep_going=keep_going)
    # Expiry first (it moves quota); the expiring-soon pass only runs when expiry finished.
    soon = ledger.mark_expiring_soon(as_of, expiring_soon_window, keep_going) if report.complete else None
    marked = soon.marked_grants if soon else 0
    metrics.add_metric(name="ExpiredGrants", unit=MetricUnit.Count, value=report.expired_grants)
    metrics.add_metric(name="ExpiredUnits", unit=MetricUnit.Count, value=report.expired_quantity)
    metrics.add_metric(name="ExpiringSoonGrants", unit=MetricUnit.Count, value=marked)
    summary = {
        "as_of": report.as_of,
        "expired_grants": report.expired_grants,
        "expired_quantity": report.expired_quantity,
        "complete": soon is not None and soon.complete,
    }
    logger.info("expiry run", extra=summary | {"continuation": continuation, "expiring_soon_marked": marked})
    if not summary["complete"]:
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
