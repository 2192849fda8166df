"""The conditions and update actions of the ledger's corrections: reversals (R17), actions (R18).

Each is the grant ledger's next entry (R19)."""

from __future__ import annotations

from pynamodb.expressions.condition import Condition
from pynamodb.expressions.operand import Path
from pynamodb.expressions.update import Action

from ...correction_results import EntryKind
from ...domain.planning.actions import ActionCommit
from ...domain.planning.reversal import ReversalCommit
from ..expressions import entries_are
from ..items import AccountProfileItem, CallItem, GrantItem, UsageItem
from . import entry_fields


def reversal_mark(commit: ReversalCommit) -> tuple[list[Action], Condition]:
    """Mark the usage record reversed, once: the very record the plan read (its write id)."""
    actions: list[Action] = [
        Path(name).set(value) for name, value in entry_fields.reversal_fields(commit.reversal).items()
    ]
    condition: Condition = (CallItem.item_type == UsageItem) & CallItem.reversed_at.does_not_exist()
    return actions, condition & (CallItem.write_id == commit.usage.write_id)


def reversal_return(commit: ReversalCommit, expiry_shard: str) -> tuple[list[Action], Condition]:
    """The grant's balances after the reversal, as its next ledger entry: the units back to
    ``remaining`` while it is usable (and free for new draws and holds), else to ``expired``."""
    entry, reversal = commit.entry, commit.reversal
    assert entry is not None
    actions: list[Action] = [
        GrantItem.entries.set(entry.sequence),
        GrantItem.used.set(entry.used),
        GrantItem.remaining.set(entry.remaining),
        GrantItem.expired.set(entry.expired),
        GrantItem.peak_used.set(commit.peak_used),
    ]
    usable: Condition = (GrantItem.expires_at > commit.now) & GrantItem.voided_at.does_not_exist()
    if not commit.usable:
        unusable: Condition = (GrantItem.expires_at <= commit.now) | GrantItem.voided_at.exists()
        return actions, entries_are(commit.expected_entries) & unusable
    actions.append(GrantItem.unreserved.set(GrantItem.unreserved + reversal.free_returned))
    if commit.revives:
        actions.append(GrantItem.expiry_shard.set(expiry_shard))
    return actions, entries_are(commit.expected_entries) & usable


def operator_action(commit: ActionCommit) -> tuple[list[Action], Condition]:
    """The grant's side of an operator action (R18), as its ledger's next entry: an extension
    moves ``expires_at``; a void records the whole remainder as expired, ends its live holds and
    marks it. Either needs the grant unexpired and not voided."""
    action, entry = commit.action, commit.action.entry
    assert entry is not None
    condition: Condition = entries_are(commit.expected_entries) & GrantItem.voided_at.does_not_exist()
    condition &= GrantItem.expires_at > action.acted_at
    actions: list[Action] = [GrantItem.entries.set(entry.sequence)]
    if action.kind is EntryKind.EXTENSION:
        return [*actions, GrantItem.expires_at.set(action.expires_at)], condition
    actions += [
        GrantItem.voided_at.set(action.acted_at),
        GrantItem.remaining.set(0),
        GrantItem.expired.set(entry.expired),
        GrantItem.held_units.set({}),
        GrantItem.held_total.set(0),
        GrantItem.unreserved.set(0),
        GrantItem.expiry_shard.remove(),
    ]
    return actions, condition


def revival(account_id: str, now: str) -> list[Action]:
    """Count a reversal that gave units back to an exhausted grant on the account's profile."""
    return [
        AccountProfileItem.account_id.set(account_id),
        AccountProfileItem.postpaid_enabled.set(AccountProfileItem.postpaid_enabled | False),
        AccountProfileItem.updated_at.set(now),
        AccountProfileItem.item_type.set(AccountProfileItem),
        AccountProfileItem.revivals.set((AccountProfileItem.revivals | 0) + 1),
    ]
