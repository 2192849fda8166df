"""Metrics that need their own dimension (an outcome, a reason), beside a function's Metrics."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.metrics.functions import is_metrics_disabled

if TYPE_CHECKING:
    from trial_ledger import UsageResult


def count_by(metrics: Metrics, name: str, dimension: str, value: str, amount: int = 1) -> None:
    """Emit ``name`` with one extra dimension now; the function's default dimensions apply."""
    # single_metric prints its line whatever POWERTOOLS_METRICS_DISABLED says (Powertools 3.37
    # checks the variable only when a Metrics instance flushes).
    if is_metrics_disabled():
        return
    with single_metric(
        name=name, unit=MetricUnit.Count, value=amount, default_dimensions=metrics.default_dimensions
    ) as metric:
        metric.add_dimension(name=dimension, value=value)


def count_usage(metrics: Metrics, results: Sequence[UsageResult]) -> None:
    """The units of newly recorded usages by funding, auto-claims and replays: one value each."""
    recorded = [result for result in results if not result.replayed]
    if recorded:
        metrics.add_metric(name="FreeUnits", unit=MetricUnit.Count, value=sum(r.free for r in recorded))
        metrics.add_metric(name="BillableUnits", unit=MetricUnit.Count, value=sum(r.billable for r in recorded))
        overage = sum(r.unbilled_overage for r in recorded)
        metrics.add_metric(name="UnbilledOverageUnits", unit=MetricUnit.Count, value=overage)
    if claims := sum(r.auto_claimed for r in recorded):
        metrics.add_metric(name="AutoClaims", unit=MetricUnit.Count, value=claims)
    if replays := len(results) - len(recorded):
        metrics.add_metric(name="UsageReplays", unit=MetricUnit.Count, value=replays)
