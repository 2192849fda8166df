"""Gateway routes (IAM): admission before an invocation and metering after it."""

from typing import Annotated, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from trial_edge.body_guard import resolve
from trial_edge.identity import gateway_caller
from trial_edge.problems import json_api
from trial_edge.request_models import AuthorizationRequest, HoldRequest, UsageBatchRequest, UsageRequest, hold_ask
from trial_edge.response_models import (
    AuthorizationOut,
    HoldOut,
    ReleaseOut,
    UsageBatchOut,
    UsageOut,
    authorization_out,
    hold_out,
    release_out,
    usage_out,
)
from trial_edge.responses import problems
from trial_edge.snapstart import install_hooks
from trial_edge.telemetry import count_by, count_usage
from trial_edge.usage_batch import batch_out, parse_records, record_in_order
from trial_ledger import AdmissionRefused, Ledger, RecordRefusal, StopReason, UsageResult
from trial_ledger.limits import ID_PATTERN

logger = Logger()
metrics = Metrics()
app = json_api(logger)
ledger = Ledger()
install_hooks(app, ledger, priming_route=("POST", "/v1/usage"))


@app.post(
    "/v1/authorizations",
    summary="May this account invoke this model now? Claims the trial on first use",
    responses=problems(*StopReason, "unknown_model"),
)
def authorize(request: Annotated[AuthorizationRequest, Body()]) -> AuthorizationOut:
    gateway_caller(app.current_event)
    try:
        result = ledger.authorize(request.account_id, request.model_id, request.sub_account_id)
    except AdmissionRefused as refused:
        count_by(metrics, "AdmissionsRefused", "reason", refused.code)
        raise
    if result.auto_claimed:
        metrics.add_metric(name="AutoClaims", unit=MetricUnit.Count, value=1)
    return authorization_out(result)


@app.post(
    "/v1/usage",
    summary="Record one invocation (idempotent by request_id)",
    responses=problems("unknown_model", "request_id_conflict"),
)
def record_usage(request: Annotated[UsageRequest, Body()]) -> UsageOut:
    gateway_caller(app.current_event)
    result = ledger.record_usage(
        request.account_id, request.model_id, request.quantity, request.request_id, request.sub_account_id
    )
    count_usage(metrics, [result])
    return usage_out(result)


@app.post(
    "/v1/usage/batch",
    summary="Record up to 100 invocations in order, as if one by one (each idempotent by request_id)",
    responses=problems(),
)
def record_usage_batch(request: Annotated[UsageBatchRequest, Body()]) -> UsageBatchOut:
    gateway_caller(app.current_event)
    outcomes = record_in_order(ledger.record_usage_batch, parse_records(request.records))
    count_usage(metrics, [outcome for outcome in outcomes if isinstance(outcome, UsageResult)])
    for refusal in (outcome for outcome in outcomes if isinstance(outcome, RecordRefusal)):
        count_by(metrics, "BatchRecordsRefused", "code", refusal.code)
    metrics.add_metric(name="BatchRecords", unit=MetricUnit.Count, value=len(outcomes))
    return batch_out(outcomes)


@app.post(
    "/v1/holds",
    summary="Reserve free units for a call before it runs (idempotent by request_id)",
    responses=problems(*StopReason, "unknown_model", "request_id_conflict"),
)
def take_hold(request: Annotated[HoldRequest, Body()]) -> HoldOut:
    gateway_caller(app.current_event)
    try:
        result = ledger.hold(hold_ask(request))
    except AdmissionRefused as refused:
        count_by(metrics, "AdmissionsRefused", "reason", refused.code)
        raise
    if not result.replayed:
        metrics.add_metric(name="HeldUnits", unit=MetricUnit.Count, value=result.held)
    return hold_out(result)


@app.delete(
    "/v1/holds/<request_id>",
    summary="End a live hold without usage; or say how it had ended",
    responses=problems("hold_not_found"),
)
def release_hold(
    request_id: Annotated[str, Path(pattern=ID_PATTERN.pattern, min_length=1, max_length=128)],
) -> ReleaseOut:
    gateway_caller(app.current_event)
    return release_out(ledger.release_hold(request_id))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return resolve(app, event, context)
