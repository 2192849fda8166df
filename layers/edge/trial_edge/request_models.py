"""Pydantic models of the request bodies of the HTTP contract (docs/contract.md, section 3): strict,
with the limits of trial_ledger.limits."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from trial_ledger import HoldAsk
from trial_ledger.limits import (
    ALERT_PERCENT_RANGE,
    HOLD_TTL_RANGE,
    ID_PATTERN,
    MAX_ALERT_THRESHOLDS,
    MAX_MODELS_PER_CLAIM,
    MAX_QUANTITY,
    MAX_REASON_LENGTH,
    MAX_RECORDS_PER_BATCH,
)

Id = Annotated[str, StringConstraints(pattern=ID_PATTERN.pattern, min_length=1, max_length=128)]
INTEGER_LITERAL = (
    'An integer literal: `10`, never `10.0`, `1e1` or `"10"` (JSON Schema calls 10.0 an integer; this API does not).'
)
"""What the document says of an integer field: no JSON Schema keyword can tell ``10`` from ``10.0``."""
Quantity = Annotated[int, Field(ge=1, le=MAX_QUANTITY, description=INTEGER_LITERAL)]


class StrictBody(BaseModel):
    """Request bodies: no coercion (``"10"`` is not 10, ``10.0`` is not a quantity, ``1`` is not
    ``true``) and no unknown fields (a misspelt field is an error, not a silent default)."""

    model_config = ConfigDict(strict=True, extra="forbid")


class ClaimRequest(StrictBody):
    model_config = ConfigDict(json_schema_extra={"examples": [{"models": ["hunyuan-turbo", "hunyuan-image"]}]})

    # uniqueItems: the validator below refuses duplicates, and the document must say so.
    models: Annotated[
        list[Id], Field(min_length=1, max_length=MAX_MODELS_PER_CLAIM, json_schema_extra={"uniqueItems": True})
    ]

    @field_validator("models")
    @classmethod
    def _distinct(cls, models: list[str]) -> list[str]:
        if len(set(models)) != len(models):
            raise ValueError("models must be distinct")
        return models


class PostpaidRequest(StrictBody):
    model_config = ConfigDict(json_schema_extra={"examples": [{"enabled": True}]})

    enabled: bool


AlertPercent = Annotated[
    int, Field(ge=ALERT_PERCENT_RANGE.start, le=ALERT_PERCENT_RANGE.stop - 1, description=INTEGER_LITERAL)
]


class AlertsRequest(StrictBody):
    model_config = ConfigDict(json_schema_extra={"examples": [{"balance_low_percent": [50, 80, 95]}]})

    balance_low_percent: Annotated[
        list[AlertPercent],
        Field(
            min_length=1,
            max_length=MAX_ALERT_THRESHOLDS,
            json_schema_extra={"uniqueItems": True},
            description="Used shares of a grant, in percent, whose first crossing publishes TrialBalanceLow "
            "for this account's grants from now on (crossings before stay as they were); 1 to 5 distinct.",
        ),
    ]

    @field_validator("balance_low_percent")
    @classmethod
    def _distinct(cls, values: list[int]) -> list[int]:
        if len(set(values)) != len(values):
            raise ValueError("thresholds must be distinct")
        return values


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


Reason = Annotated[str, StringConstraints(min_length=1, max_length=MAX_REASON_LENGTH, pattern=r"\S")]
"""Why a correction was made: 1..500 characters, not only blanks."""


class ReversalRequest(StrictBody):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"request_id": "req-5f0c2a", "reason": "the call failed after metering"}]}
    )

    request_id: Id
    reason: Reason


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


CURSOR_DESCRIPTION = (
    "opaque: the next_cursor of the page before, of the same listing (account, filter); any other is 400 invalid_cursor"
)
