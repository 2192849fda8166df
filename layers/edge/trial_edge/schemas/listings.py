"""The pages of both API functions' listings: an account's usage records (GET /v1/usage) and a
grant's ledger (R19), and their conversions from the ledger's pages."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from trial_ledger import EntryKind, LedgerEntry, LedgerPage, UsageResult

from .gateway import UsageOut, usage_fields


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


def usage_record_out(result: UsageResult) -> UsageRecordOut:
    return UsageRecordOut.model_validate(
        usage_fields(result)
        | {
            "sub_account_id": result.sub_account_id,
            "recorded_at": result.recorded_at,
            "reversed_at": result.reversed_at,
        }
    )


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
