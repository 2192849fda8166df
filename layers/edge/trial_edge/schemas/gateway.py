"""The consume function's hot schemas (the inference gateway's routes): admission, usage, a
batch of usage, holds and their release, requests and answers, and their conversions from the
ledger's results. Reversals and the operators' routes are in corrections.py, loaded on their first
request."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from trial_ledger import (
    Authorization,
    FundingSource,
    HoldAsk,
    HoldResult,
    HoldStatus,
    ReleaseResult,
    UsageResult,
    format_money,
)
from trial_ledger.limits import HOLD_TTL_RANGE, MAX_RECORDS_PER_BATCH

from .common import INTEGER_LITERAL, ChargeOut, Id, Quantity, StrictBody


class AuthorizationRequest(StrictBody):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"account_id": "100012345678", "model_id": "hunyuan-turbo", "sub_account_id": "key-7"}]
        }
    )

    account_id: Id
    model_id: Id
    sub_account_id: Id | None = None


class UsageRequest(StrictBody):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "account_id": "100012345678",
                    "model_id": "hunyuan-turbo",
                    "quantity": 1834,
                    "request_id": "req-5f0c2a",
                    "sub_account_id": "key-7",
                }
            ]
        }
    )

    account_id: Id
    model_id: Id
    quantity: Quantity
    request_id: Id
    sub_account_id: Id | None = None


class UsageBatchRequest(StrictBody):
    model_config = ConfigDict(json_schema_extra={"examples": [{"records": [
        {"account_id": "100012345678", "model_id": "hunyuan-turbo", "quantity": 1834, "request_id": "req-5f0c2a"},
        {"account_id": "100012345678", "model_id": "hunyuan-image", "quantity": 2, "request_id": "req-5f0c2b"},
        {"account_id": "100012345678", "model_id": "hunyuan-turbo", "quantity": 10**11, "request_id": "req-5f0c2c"},
    ]}]})  # fmt: skip

    records: Annotated[
        list[Any],
        Field(
            min_length=1,
            max_length=MAX_RECORDS_PER_BATCH,
            description="Each record is meant to be a body of POST /v1/usage (UsageRequest). A record that "
            "breaks that schema, whatever it holds (another type, a number out of range, an unknown field), "
            "is answered in its place with a validation_error result and its neighbours are recorded; so "
            "the schema of a record here is any JSON value. The whole batch is refused only for its envelope: "
            "no records, 0 or more than 100 of them, an unknown field, or a body nested deeper than 32 levels.",
        ),
    ]


class HoldRequest(StrictBody):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "account_id": "100012345678", "model_id": "hunyuan-turbo", "request_id": "req-5f0c2a", "estimate": 4000,
        "sub_account_id": "key-7", "ttl_seconds": 600}]})  # fmt: skip

    account_id: Id
    model_id: Id
    request_id: Id
    estimate: Quantity
    sub_account_id: Id | None = None
    ttl_seconds: (
        Annotated[int, Field(ge=HOLD_TTL_RANGE.start, le=HOLD_TTL_RANGE.stop - 1, description=INTEGER_LITERAL)] | None
    ) = None


def hold_ask(request: HoldRequest) -> HoldAsk:
    return HoldAsk(**request.model_dump())


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


def usage_fields(result: UsageResult) -> dict[str, object]:
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
    return UsageOut.model_validate(usage_fields(result))


def authorization_out(authorization: Authorization) -> AuthorizationOut:
    return AuthorizationOut.model_validate(authorization, from_attributes=True)


def hold_out(result: HoldResult) -> HoldOut:
    return HoldOut.model_validate(result, from_attributes=True)


def release_out(result: ReleaseResult) -> ReleaseOut:
    return ReleaseOut.model_validate(result, from_attributes=True)
