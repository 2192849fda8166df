"""IAM routes: the gateway's (admission before an invocation, metering after it, reversals) and
the operators' (/v1/admin/...: extension, void, the support view, a grant's ledger).

The schemas of reversals, the operators' routes and the ledger pages (``schemas.corrections``,
``schemas.listings``) are imported on their routes' first request, not at init
(trial_edge/schemas/__init__.py); the annotations are strings until Powertools resolves them."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from trial_edge import schemas
from trial_edge.body_guard import resolve
from trial_edge.principals import Principals, admitted_for
from trial_edge.problems import json_api
from trial_edge.responses import link, problems
from trial_edge.schemas.common import CURSOR_DESCRIPTION
from trial_edge.schemas.gateway import (
    AuthorizationOut,
    AuthorizationRequest,
    HoldOut,
    HoldRequest,
    ReleaseOut,
    UsageBatchOut,
    UsageBatchRequest,
    UsageOut,
    UsageRequest,
    authorization_out,
    hold_ask,
    hold_out,
    release_out,
    usage_out,
)
from trial_edge.snapstart import install_hooks
from trial_edge.telemetry import count_by, count_usage
from trial_edge.usage_batch import batch_out, parse_records, record_in_order
from trial_ledger import AdmissionRefused, Ledger, RecordRefusal, StopReason, UsageResult
from trial_ledger.limits import DEFAULT_LEDGER_PAGE, ID_PATTERN, MAX_CURSOR_LENGTH, MAX_LEDGER_PAGE

logger = Logger()
metrics = Metrics()
app = json_api(logger)
ledger = Ledger()
gateway_principals = Principals.from_environment("GATEWAY_PRINCIPALS")
"""R21: the gateway routes answer only the inference gateway's roles (deploy parameter GatewayPrincipalArns)."""
operator_principals = Principals.from_environment("OPERATOR_PRINCIPALS")
"""R21: the operator routes (/v1/admin/...) answer only the operators' roles (OperatorPrincipalArns)."""
install_hooks(app, ledger, priming_route=("POST", "/v1/usage"))


HELD_CALL = {
    "account_id": "$response.body#/account_id",
    "model_id": "$response.body#/model_id",
    "request_id": "$response.body#/request_id",
}
"""The call a hold or a usage names, for the links between them."""


@app.post(
    "/v1/authorizations",
    operation_id="authorize",
    summary="May this account invoke this model now? Claims the trial on first use",
    responses=problems("forbidden_principal", *StopReason, "unknown_model"),
)
def authorize(request: Annotated[AuthorizationRequest, Body()]) -> AuthorizationOut:
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
    operation_id="record_usage",
    summary="Record one invocation (idempotent by request_id)",
    responses=problems(
        "forbidden_principal",
        "unknown_model",
        "request_id_conflict",
        links={
            "Replay": link(
                "record_usage", "the same usage again: the first result, replayed", request_body="$request.body"
            ),
            "HoldForTheMeteredCall": link(
                "take_hold",
                "a hold for a call already metered",
                request_body=HELD_CALL | {"estimate": "$response.body#/quantity"},
            ),
        },
    ),
)
def record_usage(request: Annotated[UsageRequest, Body()]) -> UsageOut:
    result = ledger.record_usage(
        request.account_id, request.model_id, request.quantity, request.request_id, request.sub_account_id
    )
    count_usage(metrics, [result])
    return usage_out(result)


@app.post(
    "/v1/usage/batch",
    operation_id="record_usage_batch",
    summary="Record up to 100 invocations in order, as if one by one (each idempotent by request_id)",
    responses=problems(
        "forbidden_principal",
        links={
            "Retry": link(
                "record_usage_batch",
                "the same batch again: the recorded records replayed",
                request_body="$request.body",
            ),
        },
    ),
)
def record_usage_batch(request: Annotated[UsageBatchRequest, Body()]) -> UsageBatchOut:
    outcomes = record_in_order(ledger.record_usage_batch, parse_records(request.records))
    count_usage(metrics, [outcome for outcome in outcomes if isinstance(outcome, UsageResult)])
    for refusal in (outcome for outcome in outcomes if isinstance(outcome, RecordRefusal)):
        count_by(metrics, "BatchRecordsRefused", "code", refusal.code)
    metrics.add_metric(name="BatchRecords", unit=MetricUnit.Count, value=len(outcomes))
    return batch_out(outcomes)


@app.post(
    "/v1/holds",
    operation_id="take_hold",
    summary="Reserve free units for a call before it runs (idempotent by request_id)",
    responses=problems(
        "forbidden_principal",
        *StopReason,
        "unknown_model",
        "request_id_conflict",
        links={
            "Settle": link(
                "record_usage",
                "the call's usage, which settles the hold",
                request_body=HELD_CALL | {"quantity": "$response.body#/estimate"},
            ),
            "Release": link(
                "release_hold", "end the hold without usage", parameters={"request_id": "$response.body#/request_id"}
            ),
            "Replay": link("take_hold", "the same hold again: the first hold, replayed", request_body="$request.body"),
        },
    ),
)
def take_hold(request: Annotated[HoldRequest, Body()]) -> HoldOut:
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
    operation_id="release_hold",
    summary="End a live hold without usage; or say how it had ended",
    responses=problems(
        "forbidden_principal",
        "hold_not_found",
        links={
            "HowItEnded": link(
                "release_hold",
                "the same release again: how the hold ended",
                parameters={"request_id": "$response.body#/request_id"},
            ),
        },
    ),
)
def release_hold(
    request_id: Annotated[str, Path(pattern=ID_PATTERN.pattern, min_length=1, max_length=128)],
) -> ReleaseOut:
    return release_out(ledger.release_hold(request_id))


@app.post(
    "/v1/usage/reversals",
    operation_id="reverse_usage",
    summary="Reverse one recorded usage, once, within its window (idempotent by request_id)",
    responses=problems(
        "forbidden_principal",
        "usage_not_found",
        "request_id_conflict",
        "reversal_window_closed",
        links={
            "Replay": link(
                "reverse_usage", "the same reversal again: the first, replayed", request_body="$request.body"
            ),
        },
    ),
)
def reverse_usage(request: Annotated[schemas.corrections.ReversalRequest, Body()]) -> schemas.corrections.ReversalOut:
    result = ledger.reverse_usage(request.request_id, request.reason)
    if not result.replayed:
        metrics.add_metric(name="FreeUnitsReturned", unit=MetricUnit.Count, value=result.free_returned)
    return schemas.corrections.reversal_out(result)


@app.post(
    "/v1/admin/grants/extension",
    operation_id="extend_grant",
    summary="Operators: move a grant's expires_at later (idempotent by action_id)",
    responses=problems(
        "forbidden_principal", "unknown_model", "grant_not_found", "grant_not_extendable", "request_id_conflict"
    ),
)
def extend_grant(request: Annotated[schemas.corrections.ExtensionRequest, Body()]) -> schemas.corrections.ActionOut:
    return schemas.corrections.action_out(ledger.extend_grant(request.ask(), request.new_expiry()))


@app.post(
    "/v1/admin/grants/void",
    operation_id="void_grant",
    summary="Operators: end a grant now, its remainder expired (idempotent by action_id)",
    responses=problems(
        "forbidden_principal", "unknown_model", "grant_not_found", "grant_not_voidable", "request_id_conflict"
    ),
)
def void_grant(request: Annotated[schemas.corrections.VoidRequest, Body()]) -> schemas.corrections.ActionOut:
    return schemas.corrections.action_out(ledger.void_grant(request.ask()))


@app.get(
    "/v1/admin/accounts/<account_id>",
    operation_id="support_view",
    summary="Operators: an account's profile, grants and newest usage",
    responses=problems("forbidden_principal"),
)
def support_view(
    account_id: Annotated[str, Path(pattern=ID_PATTERN.pattern, min_length=1, max_length=128)],
) -> schemas.corrections.SupportViewOut:
    return schemas.corrections.support_view_out(ledger.support_view(account_id))


@app.get(
    "/v1/admin/grants/ledger",
    operation_id="admin_grant_ledger",
    summary="Operators: every entry that changed one grant, oldest first",
    responses=problems("forbidden_principal", "unknown_model", "grant_not_found"),
)
def admin_grant_ledger(
    account_id: Annotated[str, Query(pattern=ID_PATTERN.pattern, min_length=1, max_length=128)],
    model_id: Annotated[str, Query(pattern=ID_PATTERN.pattern, min_length=1, max_length=128)],
    limit: Annotated[int, Query(ge=1, le=MAX_LEDGER_PAGE)] = DEFAULT_LEDGER_PAGE,
    cursor: Annotated[str | None, Query(max_length=MAX_CURSOR_LENGTH, description=CURSOR_DESCRIPTION)] = None,
) -> schemas.listings.LedgerPageOut:
    return schemas.listings.ledger_page_out(ledger.grant_ledger(account_id, model_id, limit=limit, cursor=cursor))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return resolve(app, event, context, admits=admitted_for(event, gateway_principals, operator_principals))
