"""A grant's ledger (R19) as pure rules: what each kind of entry moves, and what a page shows.

The claim entry comes from the grant; a page shows consecutive entries, never past the last one."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ..correction_results import Balances, EntryKind, LedgerEntry
from .state import GrantState, LedgerStamp


@dataclass(frozen=True, slots=True)
class StoredEntry:
    """An entry as its item holds it: what it moved is told by its kind and its units."""

    stamp: LedgerStamp
    kind: EntryKind
    at: str
    units: int = 0
    """Usage: its free units; expiry and void: the remainder they expired; reversal: returned."""
    expired_units: int = 0
    """Reversal only: the free units it recorded as expired (its grant no longer usable)."""
    request_id: str | None = None
    action_id: str | None = None
    actor: str | None = None
    reason: str | None = None

    def entry(self) -> LedgerEntry:
        balances = Balances(self.stamp.used, self.stamp.remaining, self.stamp.expired)
        return LedgerEntry(self.stamp.sequence, self.kind, self.at, self.request_id, self.action_id, self.actor,
                           self.reason, delta_of(self.kind, self.units, self.expired_units), balances)  # fmt: skip


def delta_of(kind: EntryKind, units: int, expired_units: int = 0) -> Balances:
    """The balances an entry of ``kind`` moves (each keeps ``used + remaining + expired``)."""
    if kind is EntryKind.USAGE:
        return Balances(units, -units, 0)
    if kind is EntryKind.REVERSAL:
        return Balances(-(units + expired_units), units, expired_units)
    if kind in (EntryKind.EXPIRY, EntryKind.VOID):
        return Balances(0, -units, units)
    if kind is EntryKind.CLAIM:
        return Balances(0, units, 0)
    return Balances(0, 0, 0)  # an extension moves the validity, not the balances


def claim_entry(grant: GrantState) -> LedgerEntry:
    """Entry 1: the grant as claimed, its whole quota remaining."""
    stamp = LedgerStamp(1, 0, grant.quota, 0)
    return StoredEntry(stamp, EntryKind.CLAIM, grant.claimed_at, units=grant.quota).entry()


def consecutive(after: int, stored: Iterable[StoredEntry], last: int) -> list[LedgerEntry]:
    """The entries that follow entry ``after`` without a gap, up to the grant's ``last``: an entry
    the index does not show yet (it is eventually consistent) ends the page before it, so that
    paging on never skips one."""
    entries: list[LedgerEntry] = []
    expected = after + 1
    for item in stored:
        if item.stamp.sequence != expected or expected > last:
            break
        entries.append(item.entry())
        expected += 1
    return entries
