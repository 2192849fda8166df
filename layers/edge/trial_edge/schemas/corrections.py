"""The schemas of the corrections and the operator routes (contract section 10: R17 and R18),
requests and answers, and their conversions from the ledger's results."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from trial_ledger import ActionAsk, ActionResult, EntryKind, ReversalResult, SupportView, format_money
from trial_ledger.limits import MAX_ACTOR_LENGTH

from .common import ChargeOut, Id, Reason, StrictBody
from .console import AccountOut, GrantOut, account_out, grant_out
from .listings import UsageRecordOut, usage_record_out


class ReversalRequest(StrictBody):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"request_id": "req-5f0c2a", "reason": "the call failed after metering"}]}
    )

    request_id: Id
    reason: Reason


class ReversalOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "request_id": "req-5f0c2a", "reversed_at": "2026-03-01T09:00:00.000Z", "free_returned": 1834,
        "free_expired": 0, "billable_credited": {"currency": "CNY", "amount": "0"}, "replayed": False}]})  # fmt: skip

    request_id: str
    reversed_at: str
    free_returned: int
    free_expired: int
    billable_credited: ChargeOut
    replayed: bool


def reversal_out(result: ReversalResult) -> ReversalOut:
    credit = ChargeOut(currency=result.currency, amount=format_money(result.billable_credited))
    return ReversalOut(
        request_id=result.request_id,
        reversed_at=result.reversed_at,
        free_returned=result.free_returned,
        free_expired=result.free_expired,
        billable_credited=credit,
        replayed=result.replayed,
    )


Actor = Annotated[str, StringConstraints(min_length=1, max_length=MAX_ACTOR_LENGTH, pattern=r"\S")]
"""Who acted (the operator tool's user): 1..200 characters, not only blanks."""


Instant = Annotated[
    str,
    StringConstraints(pattern=r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})$"),
    Field(json_schema_extra={"format": "date-time"}),
]
"""An ISO-8601 instant with its offset (``Z`` or ``+08:00``), a real one (no 30 February)."""


class VoidRequest(StrictBody):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "action_id": "act-9f1", "account_id": "100012345678", "model_id": "hunyuan-turbo",
        "actor": "support:alice", "reason": "abuse, ticket 4711"}]})  # fmt: skip

    action_id: Id
    account_id: Id
    model_id: Id
    actor: Actor
    reason: Reason

    def ask(self) -> ActionAsk:
        return ActionAsk(self.action_id, self.account_id, self.model_id, self.actor, self.reason)


class ExtensionRequest(VoidRequest):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "action_id": "act-9f2", "account_id": "100012345678", "model_id": "hunyuan-turbo",
        "expires_at": "2026-09-01T00:00:00Z", "actor": "support:alice", "reason": "outage, ticket 4712"}]})  # fmt: skip

    expires_at: Instant

    @field_validator("expires_at")
    @classmethod
    def _a_real_instant(cls, value: str) -> str:
        datetime.fromisoformat(value.replace("Z", "+00:00"))  # ValueError: a 422 naming the field
        return value

    def new_expiry(self) -> datetime:
        return datetime.fromisoformat(self.expires_at.replace("Z", "+00:00"))


class ActionOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "action_id": "act-9f1", "kind": "void", "account_id": "100012345678", "model_id": "hunyuan-turbo",
        "actor": "support:alice", "reason": "abuse, ticket 4711", "acted_at": "2026-03-02T10:00:00.000Z",
        "sequence": 7, "previous_expires_at": "2026-05-30T08:00:00.000Z", "expires_at": "2026-05-30T08:00:00.000Z",
        "expired_quantity": 998166, "replayed": False}]})  # fmt: skip

    action_id: str
    kind: EntryKind
    account_id: str
    model_id: str
    actor: str
    reason: str
    acted_at: str
    sequence: int
    """The grant ledger entry the action is (R19)."""
    previous_expires_at: str
    expires_at: str
    expired_quantity: int
    replayed: bool


class SupportViewOut(BaseModel):
    account: AccountOut
    grants: list[GrantOut]
    usage: list[UsageRecordOut]
    """The newest usage records (GET /v1/usage pages on for the account itself)."""


def action_out(result: ActionResult) -> ActionOut:
    return ActionOut.model_validate(result, from_attributes=True)


def support_view_out(view: SupportView) -> SupportViewOut:
    return SupportViewOut(
        account=account_out(view.account),
        grants=[grant_out(grant) for grant in view.grants],
        usage=[usage_record_out(record) for record in view.usage.items],
    )
