"""The audit's checks of reversals (R17) and of every grant's ledger (R19) over a whole table.

``audit.py`` reads the table once and hands each grant's items here (``GrantItems``): its usage
records, its reversal items and its expiry item, which are the entries of its ledger when they
carry ``ledger_seq`` (entry 1, the claim, is the grant item itself). The checks read the items,
not the grant-ledger index: the index lists exactly the items that carry ``ledger_grant`` and
``ledger_seq`` (DynamoDB keeps it, a moment behind), so the items are the ledger itself.

Nothing here imports the ledger package at import time: ``make audit`` configures it first."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

Balances = tuple[int, int, int]
"""used, remaining, expired"""


@dataclass
class GrantItems:
    """What the scan found of one grant (account, model), the grant item aside."""

    usages: list[Any] = field(default_factory=list)
    reversals: list[Any] = field(default_factory=list)
    expiry: Any | None = None
    actions: list[Any] = field(default_factory=list)
    """Operators' extensions and voids (R18)."""

    def unreversed_free(self) -> int:
        return sum(int(usage.free) for usage in self.usages if usage.reversed_at is None)

    def expired_by_entries(self) -> int:
        """What its expiry item, a void and the reversals past its validity recorded as expired."""
        expiry = int(self.expiry.quantity) if self.expiry is not None else 0
        voided = sum(int(action.quantity) for action in self.actions if action.action_kind == "void")
        return expiry + voided + sum(int(reversal.free_expired) for reversal in self.reversals)


@dataclass(frozen=True)
class Entry:
    """An item that is (or should be) an entry of its grant's ledger, and what it must move."""

    item: Any
    kind: str
    name: str
    delta: Balances

    @property
    def sequence(self) -> int | None:
        return None if self.item.ledger_seq is None else int(self.item.ledger_seq)

    @property
    def balances(self) -> Balances:
        item = self.item
        return int(item.balance_used), int(item.balance_remaining), int(item.balance_expired)


def entries_of(items: GrantItems) -> list[Entry]:
    """Every item of the grant that moves its balances (those must be entries, R19), and any
    other one that claims to be an entry (a usage without free units, a reversal of one)."""
    entries = []
    for usage in items.usages:
        free = int(usage.free)
        entries.append(Entry(usage, "usage", f"usage {usage.request_id}", (free, -free, 0)))
    for reversal in items.reversals:
        back, lost = int(reversal.free_returned), int(reversal.free_expired)
        entries.append(Entry(reversal, "reversal", f"reversal {reversal.request_id}", (-(back + lost), back, lost)))
    if items.expiry is not None:
        quantity = int(items.expiry.quantity)
        entries.append(Entry(items.expiry, "expiry", "expiry", (0, -quantity, quantity)))
    for action in items.actions:  # an extension moves no balance; a void expires the remainder
        quantity = int(action.quantity)
        entries.append(Entry(action, action.action_kind, f"{action.action_kind} {action.action_id}",
                             (0, -quantity, quantity)))  # fmt: skip
    return entries


def check_reversals(usages: Iterable[Any], reversals: Iterable[Any], violations: list[str]) -> None:
    """R17: every reversed usage record (``reversed_at``) has its reversal item and every
    reversal item its marked usage record, both saying the same; it gives back exactly the
    usage's free units (returned or expired, R9)."""
    marked = {usage.request_id: usage for usage in usages if usage.reversed_at is not None}
    for reversal in reversals:
        where = f"reversal {reversal.request_id}"
        usage = marked.pop(reversal.request_id, None)
        if usage is None:
            violations.append(f"{where}: its usage record is not marked reversed (or is missing)")
            continue
        mark = (usage.reversed_at, usage.reversal_reason, int(usage.free_returned or 0), int(usage.free_expired or 0))
        item = (reversal.recorded_at, reversal.reason, int(reversal.free_returned), int(reversal.free_expired))
        if mark != item:
            violations.append(f"{where}: the usage's mark {mark} != the reversal item's {item}")
        if item[2] + item[3] != int(usage.free):
            violations.append(f"{where}: returned {item[2]} + expired {item[3]} != the usage's free {usage.free}")
        if (int(reversal.billable), reversal.charge) != (int(usage.billable), usage.charge):
            violations.append(f"{where}: credits {reversal.billable} ({reversal.charge}), the usage billed "
                              f"{usage.billable} ({usage.charge})")  # fmt: skip
    for request_id in marked:
        violations.append(f"usage {request_id}: reversed, without its reversal item")


def check_ledger(
    where: str, grant: Any, items: GrantItems, in_ledger: Callable[[str], bool], violations: list[str]
) -> int:
    """R19 for one grant: its entries are 2..``entries`` (the claim is 1) without gaps or
    duplicates; every item that moves a balance is one of them, and no other; each entry keeps
    the quota and moves, from the entry before, exactly what its kind and units say; the last
    entry's balances are the grant's (``in_ledger``: whether a grant-ledger index key is one of
    this grant's shards, as its listing reads them).
    Returns the number of entries found (the claim aside)."""
    quota, count = int(grant.quota), 1 if grant.entries is None else int(grant.entries)
    numbered, unnumbered = [], []
    for entry in entries_of(items):
        # An operator's action is an entry whatever it moves (an extension moves no balance).
        moves = entry.delta != (0, 0, 0) or entry.kind in ("extension", "void")
        if entry.sequence is None:
            if moves:
                unnumbered.append(entry)
        elif not moves:
            violations.append(f"{where}: {entry.name} moves no balance but is entry {entry.sequence}")
        elif not in_ledger(entry.item.ledger_grant):
            violations.append(f"{where}: {entry.name} is an entry of {entry.item.ledger_grant}")
        else:
            numbered.append(entry)
    numbered.sort(key=lambda entry: int(entry.item.ledger_seq))
    opening = _opening(where, grant, numbered, unnumbered, violations)
    _check_numbers(where, count, numbered, violations)
    _check_chain(where, quota, opening, numbered, violations)
    balances = (int(grant.used), int(grant.remaining), int(grant.expired))
    last = [entry.balances for entry in numbered if entry.sequence == count] if count > 1 else [opening]
    if len(last) == 1 and last[0] != balances:  # none or two: named above
        violations.append(f"{where}: its last entry {count} has balances {last[0]}, the grant {balances}")
    return len(numbered)


def _opening(where: str, grant: Any, numbered: list[Entry], unnumbered: list[Entry], violations: list[str]) -> Balances:
    """The balances the numbered entries start from: the claim's (0, quota, 0), moved by the
    usages and the expiry of a grant of before v3, which are not entries (docs/ledger.md). Only a
    grant without ``entries``, or items recorded before its first numbered entry, can be those;
    any other item that moves a balance without an entry is named."""
    used, remaining, expired = 0, int(grant.quota), 0
    first_at = str(numbered[0].item.recorded_at) if numbered else None
    for entry in unnumbered:
        before_the_ledger = grant.entries is None or (first_at is not None and str(entry.item.recorded_at) < first_at)
        if entry.kind == "reversal" or not before_the_ledger:
            violations.append(f"{where}: {entry.name} moves {entry.delta} but is no entry of its ledger")
            continue
        used, remaining, expired = used + entry.delta[0], remaining + entry.delta[1], expired + entry.delta[2]
    return used, remaining, expired


def _check_numbers(where: str, count: int, numbered: list[Entry], violations: list[str]) -> None:
    seen = Counter(entry.sequence for entry in numbered)
    for sequence, times in sorted(seen.items(), key=lambda pair: int(pair[0] or 0)):
        names = ", ".join(entry.name for entry in numbered if entry.sequence == sequence)
        if times > 1:
            violations.append(f"{where}: entry {sequence} is {times} items ({names})")
        if not 2 <= int(sequence or 0) <= count:
            violations.append(f"{where}: entry {sequence} ({names}) is outside 2..{count}, the grant's entries")
    missing = [sequence for sequence in range(2, count + 1) if sequence not in seen]
    if missing:
        violations.append(f"{where}: entries {_ranges(missing)} of 1..{count} are missing (a gap)")


def _check_chain(where: str, quota: int, opening: Balances, numbered: list[Entry], violations: list[str]) -> None:
    """Each entry keeps the quota and moves exactly its delta from the one before it (across a
    gap or a duplicate the step is not judged: those are named already)."""
    last: tuple[int, Balances] = (1, opening)
    for entry in numbered:
        sequence, after = int(entry.item.ledger_seq), entry.balances
        if sum(after) != quota or min(after) < 0:
            violations.append(f"{where}: entry {sequence} ({entry.name}) has balances {after}, quota {quota}")
        if sequence == last[0] + 1:
            moved = (after[0] - last[1][0], after[1] - last[1][1], after[2] - last[1][2])
            if moved != entry.delta:
                violations.append(f"{where}: entry {sequence} ({entry.name}) moves {moved} from entry {last[0]}, "
                                  f"its {entry.kind} moves {entry.delta} (a broken chain)")  # fmt: skip
        if sequence != last[0]:
            last = (sequence, after)


def _ranges(numbers: list[int]) -> str:
    """2, 3, 4, 7 -> '2-4, 7'."""
    spans: list[list[int]] = []
    for number in numbers:
        if spans and number == spans[-1][1] + 1:
            spans[-1][1] = number
        else:
            spans.append([number, number])
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in spans)
