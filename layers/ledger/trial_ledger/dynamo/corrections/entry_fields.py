"""The attributes of an entry of a grant's ledger (R19) and of a usage's reversal (R17) on its item.

What the usage path writes and reads, apart from the corrections' mapping (entry_mapping.py),
which the hot path does not import."""

from __future__ import annotations

from typing import Any

from ...config.settings import load_settings
from ...domain.state import LedgerStamp, Reversal
from ..items import CallItem, EntryItem
from ..keys import ledger_shard_key


def entry_fields(account_id: str, model_id: str, entry: LedgerStamp | None) -> dict[str, Any]:
    """The attributes that make an item an entry of its grant's ledger (none: not an entry)."""
    if entry is None:
        return {}
    return {
        "ledger_grant": ledger_shard_key(
            account_id, model_id, entry.sequence, load_settings().grant_ledger_shards.write
        ),
        "ledger_seq": entry.sequence,
        "balance_used": entry.used,
        "balance_remaining": entry.remaining,
        "balance_expired": entry.expired,
    }


def ledger_stamp(item: EntryItem) -> LedgerStamp | None:
    if item.ledger_seq is None:
        return None
    return LedgerStamp(int(item.ledger_seq), int(item.balance_used), int(item.balance_remaining),
                       int(item.balance_expired))  # fmt: skip


def reversal_fields(reversal: Reversal) -> dict[str, Any]:
    """The attributes a reversal sets on its usage's call item (R17)."""
    return {
        "reversed_at": reversal.reversed_at,
        "reversal_reason": reversal.reason,
        "free_returned": reversal.free_returned,
        "free_expired": reversal.free_expired,
    }


def reversal_of(item: CallItem) -> Reversal | None:
    if item.reversed_at is None:
        return None
    return Reversal(item.reversed_at, str(item.reversal_reason), int(item.free_returned or 0),
                    int(item.free_expired or 0))  # fmt: skip
