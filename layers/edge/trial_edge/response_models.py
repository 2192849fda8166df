"""Pydantic models of the responses of the HTTP contract (docs/contract.md, section 3), for the
OpenAPI document, and their conversions from the ledger's results."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from trial_ledger import (
    Account,
    AlertsSource,
    Authorization,
    ClaimAvailability,
    ClaimMethod,
    ClaimOutcome,
    ClaimOutcomeKind,
    FundingSource,
    Grant,
    GrantStatus,
    HoldResult,
    HoldStatus,
    ModelSpec,
    ReleaseResult,
    UsageResult,
    format_money,
)


class FieldError(BaseModel):
    field: str
    message: str


class Problem(BaseModel):
    type: str
    title: str
    status: int
    detail: str
    code: str
    errors: list[FieldError] | None = None


class AlertsOut(BaseModel):
    balance_low_percent: list[int]
    """Ascending."""
    source: AlertsSource
    """``account``: set by PUT /v1/account/alerts; ``default``: the deploy's BalanceLowThresholds."""


class AccountOut(BaseModel):
    account_id: str
    activated_at: str | None
    postpaid_enabled: bool
    alerts: AlertsOut


class GrantOut(BaseModel):
    model_id: str
    unit: str
    quota: int
    used: int
    remaining: int
    expired: int
    held: int
    status: GrantStatus
    claim_method: ClaimMethod
    claimed_at: str
    expires_at: str


class TrialOut(BaseModel):
    quota: int
    validity_days: int


class PriceOut(BaseModel):
    currency: str
    unit_price: str


class ClaimabilityOut(BaseModel):
    claimable: bool
    reason: str | None


class ModelOut(BaseModel):
    model_id: str
    name: str
    capability: str
    unit: str
    trial: TrialOut | None
    price: PriceOut
    claim: ClaimabilityOut


class ModelsOut(BaseModel):
    models: list[ModelOut]


class ClaimResultOut(BaseModel):
    model_id: str
    outcome: ClaimOutcomeKind
    grant: GrantOut | None


class ClaimsOut(BaseModel):
    results: list[ClaimResultOut]


class GrantsOut(BaseModel):
    grants: list[GrantOut]


class ChargeOut(BaseModel):
    currency: str
    amount: str


class UsageOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "request_id": "req-5f0c2a",
                    "account_id": "100012345678",
                    "model_id": "hunyuan-turbo",
                    "quantity": 1834,
                    "free": 1834,
                    "billable": 0,
                    "unbilled_overage": 0,
                    "charge": {"currency": "CNY", "amount": "0"},
                    "free_remaining": 998166,
                    "auto_claimed": False,
                    "replayed": False,
                }
            ]
        }
    )

    request_id: str
    account_id: str
    model_id: str
    quantity: int
    free: int
    billable: int
    unbilled_overage: int
    charge: ChargeOut
    free_remaining: int
    auto_claimed: bool
    replayed: bool
    reversed: bool = False
    """The usage was reversed (R17): a replay answers its original result with this set."""


class RecordRefusalOut(BaseModel):
    """A record of a batch that was not recorded: the problem it would have been on its own."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"request_id": "req-5f0c2c", "status": 404, "code": "unknown_model",
         "detail": "model 'no-such-model' is not in the catalog"}]})  # fmt: skip

    request_id: str | None
    status: int
    code: str
    detail: str


class UsageBatchOut(BaseModel):
    results: list[UsageOut | RecordRefusalOut]
    """One per record, in the request's order."""


class UsageRecordOut(UsageOut):
    free_remaining: int | None  # type: ignore[assignment]
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "request_id": "req-5f0c2a", "account_id": "100012345678", "model_id": "hunyuan-turbo", "quantity": 1834,
        "free": 1834, "billable": 0, "unbilled_overage": 0, "charge": {"currency": "CNY", "amount": "0"},
        "free_remaining": 998166, "auto_claimed": False, "replayed": False, "sub_account_id": "key-7",
        "recorded_at": "2026-03-01T08:00:00.000Z"}]})  # fmt: skip

    sub_account_id: str | None
    recorded_at: str
    reversed_at: str | None = None


class UsagePageOut(BaseModel):
    items: list[UsageRecordOut]
    next_cursor: str | None


class AuthorizationOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"allowed": True, "source": "free", "free_remaining": 998166, "auto_claimed": False}]
        }
    )

    allowed: bool
    source: FundingSource
    free_remaining: int
    auto_claimed: bool


class HoldOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "request_id": "req-5f0c2a", "account_id": "100012345678", "model_id": "hunyuan-turbo", "estimate": 4000,
        "held": 4000, "source": "free", "free_available": 994166, "expires_at": "2026-03-01T08:10:00.000Z",
        "auto_claimed": False, "replayed": False}]})  # fmt: skip

    request_id: str
    account_id: str
    model_id: str
    estimate: int
    held: int
    source: FundingSource
    free_available: int
    expires_at: str
    auto_claimed: bool
    replayed: bool


class ReleaseOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"request_id": "req-5f0c2a", "status": "released"}]})

    request_id: str
    status: HoldStatus


# The ledger's views carry the response fields under the same names; the models pick theirs.
def account_out(account: Account) -> AccountOut:
    return AccountOut.model_validate(account, from_attributes=True)


def grant_out(grant: Grant) -> GrantOut:
    return GrantOut.model_validate(grant, from_attributes=True)


def model_out(spec: ModelSpec, availability: ClaimAvailability) -> ModelOut:
    return ModelOut(
        model_id=spec.model_id,
        name=spec.name,
        capability=spec.capability,
        unit=spec.unit,
        trial=TrialOut(quota=spec.trial.quota, validity_days=spec.trial.validity_days) if spec.trial else None,
        price=PriceOut(currency=spec.price.currency, unit_price=format_money(spec.price.unit_price)),
        claim=ClaimabilityOut(claimable=availability.claimable, reason=availability.reason),
    )


def claim_result_out(outcome: ClaimOutcome) -> ClaimResultOut:
    return ClaimResultOut(
        model_id=outcome.model_id,
        outcome=outcome.outcome,
        grant=grant_out(outcome.grant) if outcome.grant else None,
    )


def _usage_fields(result: UsageResult) -> dict[str, object]:
    return {
        "request_id": result.request_id,
        "account_id": result.account_id,
        "model_id": result.model_id,
        "quantity": result.quantity,
        "free": result.free,
        "billable": result.billable,
        "unbilled_overage": result.unbilled_overage,
        "charge": ChargeOut(currency=result.currency, amount=format_money(result.charge)),
        "free_remaining": result.free_remaining,
        "auto_claimed": result.auto_claimed,
        "replayed": result.replayed,
        "reversed": result.reversed,
    }


def usage_out(result: UsageResult) -> UsageOut:
    return UsageOut.model_validate(_usage_fields(result))


def usage_record_out(result: UsageResult) -> UsageRecordOut:
    return UsageRecordOut.model_validate(
        _usage_fields(result)
        | {
            "sub_account_id": result.sub_account_id,
            "recorded_at": result.recorded_at,
            "reversed_at": result.reversed_at,
        }
    )


def authorization_out(authorization: Authorization) -> AuthorizationOut:
    return AuthorizationOut.model_validate(authorization, from_attributes=True)


def hold_out(result: HoldResult) -> HoldOut:
    return HoldOut.model_validate(result, from_attributes=True)


def release_out(result: ReleaseResult) -> ReleaseOut:
    return ReleaseOut.model_validate(result, from_attributes=True)
