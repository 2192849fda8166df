"""Maps a grant's ledger entries (R19), reversals (R17) and operator actions (R18) to and from items.

The attributes every entry item carries are entry_fields.py's."""

from __future__ import annotations

from typing import Any

from ...correction_results import EntryKind
from ...domain.ledger_entries import StoredEntry
from ...domain.planning.actions import ActionRecord
from ...domain.planning.reversal import ReversalCommit
from ..items import ActionItem, CallItem, EntryItem, ExpiryItem, ReversalItem
from ..keys import ACTION_SORT_KEY, REVERSAL_SORT_KEY, action_key, call_key
from .entry_fields import entry_fields, ledger_stamp


def reversal_item(commit: ReversalCommit) -> ReversalItem:
    usage, reversal = commit.usage, commit.reversal
    return ReversalItem(
        call_key(usage.request_id),
        REVERSAL_SORT_KEY,
        request_id=usage.request_id,
        account_id=usage.account_id,
        model_id=usage.model_id,
        reason=reversal.reason,
        recorded_at=reversal.reversed_at,
        free_returned=reversal.free_returned,
        free_expired=reversal.free_expired,
        billable=usage.billable,
        currency=usage.currency,
        charge=usage.charge,
        **entry_fields(usage.account_id, usage.model_id, commit.entry),
    )


def stored_entry(item: EntryItem) -> StoredEntry:
    """An entry of a grant's ledger as the grant-ledger index projects its item."""
    stamp = ledger_stamp(item)
    assert stamp is not None, "the grant-ledger index lists entries only"
    if isinstance(item, ReversalItem):
        return StoredEntry(stamp, EntryKind.REVERSAL, item.recorded_at, int(item.free_returned),
                           int(item.free_expired), request_id=item.request_id, reason=item.reason)  # fmt: skip
    if isinstance(item, ActionItem):
        return StoredEntry(stamp, EntryKind(item.action_kind), item.recorded_at, int(item.quantity),
                           action_id=item.action_id, actor=item.actor, reason=item.reason)  # fmt: skip
    if isinstance(item, ExpiryItem):
        return StoredEntry(stamp, EntryKind.EXPIRY, item.recorded_at, int(item.quantity))
    assert isinstance(item, CallItem)
    return StoredEntry(stamp, EntryKind.USAGE, str(item.recorded_at), int(item.free), request_id=item.request_id)


def action_item(action: ActionRecord) -> ActionItem:
    return ActionItem(
        action_key(action.action_id),
        ACTION_SORT_KEY,
        action_id=action.action_id,
        action_kind=action.kind.value,
        account_id=action.account_id,
        model_id=action.model_id,
        actor=action.actor,
        reason=action.reason,
        recorded_at=action.acted_at,
        fingerprint=action.fingerprint,
        previous_expires_at=action.previous_expires_at,
        new_expires_at=action.expires_at,
        quantity=action.expired_quantity,
        **entry_fields(action.account_id, action.model_id, action.entry),
    )


def action_record(item: ActionItem) -> ActionRecord:
    return ActionRecord(
        action_id=item.action_id,
        kind=EntryKind(item.action_kind),
        account_id=item.account_id,
        model_id=item.model_id,
        actor=item.actor,
        reason=item.reason,
        acted_at=item.recorded_at,
        fingerprint=item.fingerprint,
        previous_expires_at=item.previous_expires_at,
        expires_at=item.new_expires_at,
        expired_quantity=int(item.quantity),
        entry=ledger_stamp(item),
    )


def action_from_raw(raw: dict[str, Any] | None) -> ActionRecord | None:
    return action_record(ActionItem.from_raw_data(raw)) if raw else None
