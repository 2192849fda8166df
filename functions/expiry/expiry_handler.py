"""Nightly expiry: invoked by the EventBridge Scheduler schedule with its scheduled time."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from trial_ledger import Ledger, parse_timestamp

SAFETY_MARGIN_MS = 30_000
"""Stop taking new pages this long before the Lambda time limit."""

logger = Logger()
tracer = Tracer()
metrics = Metrics()
ledger = Ledger()


def as_of_instant(event: dict[str, Any]) -> str | None:
    """The schedule passes its scheduled time as ``as_of``; an ad-hoc run may leave it out."""
    value = event.get("as_of") if isinstance(event, dict) else None
    return value if isinstance(value, str) and value else None


@logger.inject_lambda_context(log_event=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    text = as_of_instant(event)
    as_of = parse_timestamp(text) if text else ledger.clock.now()
    report = ledger.expire_due(as_of, keep_going=lambda: context.get_remaining_time_in_millis() > SAFETY_MARGIN_MS)
    metrics.add_metric(name="ExpiredGrants", unit=MetricUnit.Count, value=report.expired_grants)
    metrics.add_metric(name="ExpiredUnits", unit=MetricUnit.Count, value=report.expired_quantity)
    summary = {
        "as_of": report.as_of,
        "expired_grants": report.expired_grants,
        "expired_quantity": report.expired_quantity,
        "complete": report.complete,
    }
    logger.info("expiry run", extra=summary)
    return summary
