"""Pydantic models of the corrections and the grant's ledger (contract section 10: R17, R19), and
their conversions from the ledger's results."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from trial_ledger import EntryKind, LedgerEntry, LedgerPage, ReversalResult, format_money

from .response_models import ChargeOut


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


class BalancesOut(BaseModel):
    used: int
    remaining: int
    expired: int


class LedgerEntryOut(BaseModel):
    sequence: int
    kind: EntryKind
    at: str
    request_id: str | None
    action_id: str | None
    actor: str | None
    reason: str | None
    delta: BalancesOut
    used: int
    remaining: int
    expired: int


class LedgerPageOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"entries": [
        {"sequence": 1, "kind": "claim", "at": "2026-03-01T08:00:00.000Z", "request_id": None, "action_id": None,
         "actor": None, "reason": None, "delta": {"used": 0, "remaining": 1000000, "expired": 0}, "used": 0,
         "remaining": 1000000, "expired": 0}], "next_cursor": None}]})  # fmt: skip

    entries: list[LedgerEntryOut]
    """Oldest first; ``sequence`` runs 1, 2, 3... without gaps."""
    next_cursor: str | None


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


def ledger_page_out(page: LedgerPage) -> LedgerPageOut:
    return LedgerPageOut(entries=[_entry_out(entry) for entry in page.entries], next_cursor=page.next_cursor)


def _entry_out(entry: LedgerEntry) -> LedgerEntryOut:
    delta, balances = entry.delta, entry.balances
    return LedgerEntryOut(
        sequence=entry.sequence,
        kind=entry.kind,
        at=entry.at,
        request_id=entry.request_id,
        action_id=entry.action_id,
        actor=entry.actor,
        reason=entry.reason,
        delta=BalancesOut(used=delta.used, remaining=delta.remaining, expired=delta.expired),
        used=balances.used,
        remaining=balances.remaining,
        expired=balances.expired,
    )
