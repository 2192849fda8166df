"""The claim function's schemas (console routes): the account, its alerts, the Model Gallery,
claims and grants, requests and answers, and their conversions from the ledger's results. The
usage and grant ledger pages are in listings.py, loaded on their first request."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from trial_ledger import (
    Account,
    AlertsSource,
    ClaimAvailability,
    ClaimMethod,
    ClaimOutcome,
    ClaimOutcomeKind,
    Grant,
    GrantStatus,
    ModelSpec,
    format_money,
)
from trial_ledger.limits import ALERT_PERCENT_RANGE, MAX_ALERT_THRESHOLDS, MAX_MODELS_PER_CLAIM

from .common import INTEGER_LITERAL, Id, StrictBody


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
