"""Console routes (JWT authorizer): the Model Gallery, the account, claims, grants, usage.

The listings' schemas (``schemas.listings``) are imported on their routes' first request, not at
init (trial_edge/schemas/__init__.py); the annotations are strings until Powertools resolves them."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from trial_edge import schemas
from trial_edge.body_guard import resolve
from trial_edge.identity import console_caller
from trial_edge.problems import json_api
from trial_edge.responses import link, problems
from trial_edge.schemas.common import CURSOR_DESCRIPTION
from trial_edge.schemas.console import (
    AccountOut,
    AlertsRequest,
    ClaimRequest,
    ClaimsOut,
    GrantsOut,
    ModelsOut,
    PostpaidRequest,
    account_out,
    claim_result_out,
    grant_out,
    model_out,
)
from trial_edge.snapstart import install_hooks
from trial_edge.telemetry import count_by
from trial_ledger import Ledger
from trial_ledger.limits import (
    DEFAULT_LEDGER_PAGE,
    DEFAULT_USAGE_PAGE,
    ID_PATTERN,
    MAX_CURSOR_LENGTH,
    MAX_LEDGER_PAGE,
    MAX_USAGE_PAGE,
)

logger = Logger()
metrics = Metrics()
app = json_api(logger)
ledger = Ledger()
install_hooks(app, ledger, priming_route=("POST", "/v1/trials/claims"))


@app.get(
    "/v1/models",
    operation_id="list_models",
    summary="The catalog, with whether the caller may claim each trial",
    responses=problems(),
)
def list_models() -> ModelsOut:
    availability = ledger.availability(console_caller(app.current_event).account_id)
    return ModelsOut(models=[model_out(spec, availability[model_id]) for model_id, spec in ledger.catalog.items()])


@app.get("/v1/account", operation_id="get_account", summary="The caller's root account", responses=problems())
def get_account() -> AccountOut:
    return account_out(ledger.account(console_caller(app.current_event).account_id))


@app.post(
    "/v1/account/activation",
    operation_id="activate",
    summary="Activate TokenHub (idempotent)",
    responses=problems(
        links={
            "TurnPostpaidOn": link(
                "set_postpaid", "postpaid, which needs the activation", request_body={"enabled": True}
            )
        }
    ),
)
def activate() -> AccountOut:
    return account_out(ledger.activate(console_caller(app.current_event).account_id))


@app.put(
    "/v1/account/postpaid",
    operation_id="set_postpaid",
    summary="Turn postpaid billing on or off",
    responses=problems("account_not_activated"),
)
def set_postpaid(request: Annotated[PostpaidRequest, Body()]) -> AccountOut:
    return account_out(ledger.set_postpaid(console_caller(app.current_event).account_id, request.enabled))


@app.put(
    "/v1/account/alerts",
    operation_id="set_alerts",
    summary="Set the account's TrialBalanceLow thresholds",
    responses=problems("account_not_activated"),
)
def set_alerts(request: Annotated[AlertsRequest, Body()]) -> AccountOut:
    account_id = console_caller(app.current_event).account_id
    return account_out(ledger.set_alerts(account_id, request.balance_low_percent))


@app.post(
    "/v1/trials/claims",
    operation_id="claim_trials",
    summary="Claim free trials from the gallery",
    responses=problems(
        "account_not_activated",
        links={
            "Grants": link("list_grants", "the caller's grants, the claimed ones among them"),
            "ClaimAgain": link("claim_trials", "the same claim again: already_claimed", request_body="$request.body"),
        },
    ),
)
def claim_trials(request: Annotated[ClaimRequest, Body()]) -> ClaimsOut:
    caller = console_caller(app.current_event)
    outcomes = ledger.claim(caller.account_id, request.models, claimed_by=caller.sub)
    for outcome in outcomes:
        count_by(metrics, "Claims", "outcome", outcome.outcome.value)
    return ClaimsOut(results=[claim_result_out(outcome) for outcome in outcomes])


@app.get(
    "/v1/trials",
    operation_id="list_grants",
    summary="The caller's grants, in their effective state",
    responses=problems(),
)
def list_grants() -> GrantsOut:
    return GrantsOut(grants=[grant_out(grant) for grant in ledger.grants(console_caller(app.current_event).account_id)])


@app.get(
    "/v1/trials/<model_id>/ledger",
    operation_id="grant_ledger",
    summary="Every entry that changed one of the caller's grants, oldest first",
    responses=problems(
        "unknown_model",
        "grant_not_found",
        links={
            "NextPage": link(
                "grant_ledger",
                "the next page, while next_cursor is not null",
                parameters={"model_id": "$request.path.model_id", "cursor": "$response.body#/next_cursor"},
            )
        },
    ),
)
def grant_ledger(
    model_id: Annotated[str, Path(pattern=ID_PATTERN.pattern, min_length=1, max_length=128)],
    limit: Annotated[int, Query(ge=1, le=MAX_LEDGER_PAGE)] = DEFAULT_LEDGER_PAGE,
    cursor: Annotated[str | None, Query(max_length=MAX_CURSOR_LENGTH, description=CURSOR_DESCRIPTION)] = None,
) -> schemas.listings.LedgerPageOut:
    caller = console_caller(app.current_event)
    return schemas.listings.ledger_page_out(
        ledger.grant_ledger(caller.account_id, model_id, limit=limit, cursor=cursor)
    )


@app.get(
    "/v1/usage",
    operation_id="list_usage",
    summary="The caller's usage records, newest first",
    responses=problems(
        links={
            "NextPage": link(
                "list_usage",
                "the next page, while next_cursor is not null",
                parameters={"cursor": "$response.body#/next_cursor"},
            )
        }
    ),
)
def list_usage(
    limit: Annotated[int, Query(ge=1, le=MAX_USAGE_PAGE)] = DEFAULT_USAGE_PAGE,
    cursor: Annotated[str | None, Query(max_length=MAX_CURSOR_LENGTH, description=CURSOR_DESCRIPTION)] = None,
    model_id: Annotated[str | None, Query(pattern=ID_PATTERN.pattern, max_length=128)] = None,
) -> schemas.listings.UsagePageOut:
    page = ledger.usage(console_caller(app.current_event).account_id, model_id=model_id, limit=limit, cursor=cursor)
    return schemas.listings.UsagePageOut(
        items=[schemas.listings.usage_record_out(item) for item in page.items], next_cursor=page.next_cursor
    )


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return resolve(app, event, context)
