"""Metrics that need their own dimension (an outcome, a reason), beside a function's Metrics."""

from __future__ import annotations

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.metrics.functions import is_metrics_disabled


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
