"""A grant's ledger as pure rules (R19): the claim entry, what each kind of entry moves (the
balances after it less those before, keeping ``used + remaining + expired = quota``), and a page
of consecutive entries that never skips one nor reads past the grant's last."""

from itertools import pairwise

import pytest

from trial_ledger import Balances, ClaimMethod, EntryKind, LedgerEntry
from trial_ledger.domain.ledger_entries import StoredEntry, claim_entry, consecutive, delta_of
from trial_ledger.domain.state import GrantState, LedgerStamp

CLAIMED = "2026-03-01T08:00:00.000Z"
AT = "2026-03-02T08:00:00.000Z"


def stored(sequence: int, kind: EntryKind = EntryKind.USAGE, units: int = 1, expired_units: int = 0,
           balances: tuple[int, int, int] = (1, 999, 0)) -> StoredEntry:  # fmt: skip
    return StoredEntry(LedgerStamp(sequence, *balances), kind, AT, units, expired_units, request_id=f"r{sequence}")


def test_the_claim_is_entry_1_with_the_whole_quota_remaining() -> None:
    grant = GrantState("a", "m", "tokens", 1000, 300, 600, 100, ClaimMethod.AUTO, CLAIMED, "2026-05-30T08:00:00.000Z",
                       entries=9)  # fmt: skip
    quota = Balances(0, 1000, 0)
    assert claim_entry(grant) == LedgerEntry(1, EntryKind.CLAIM, CLAIMED, None, None, None, None, quota, quota)


def test_an_entry_shows_what_its_item_holds_and_the_balances_after_it() -> None:
    usage = StoredEntry(LedgerStamp(4, 300, 650, 50), EntryKind.USAGE, AT, 20, request_id="r-7")
    assert usage.entry() == LedgerEntry(4, EntryKind.USAGE, AT, "r-7", None, None, None, Balances(20, -20, 0),
                                        Balances(300, 650, 50))  # fmt: skip
    void = StoredEntry(
        LedgerStamp(5, 300, 0, 700), EntryKind.VOID, AT, 650, action_id="act-1", actor="ops", reason="abuse"
    )
    assert void.entry() == LedgerEntry(5, EntryKind.VOID, AT, None, "act-1", "ops", "abuse", Balances(0, -650, 650),
                                       Balances(300, 0, 700))  # fmt: skip


def test_each_entrys_delta_is_its_balances_less_the_ones_before_and_keeps_the_quota() -> None:
    """One grant of 1,000 through every kind: a reversal gives back to remaining while usable, to
    expired after; an extension moves no balance."""
    ledger = [
        stored(2, EntryKind.USAGE, 300, balances=(300, 700, 0)),
        stored(3, EntryKind.USAGE, 200, balances=(500, 500, 0)),
        stored(4, EntryKind.REVERSAL, 200, balances=(300, 700, 0)),
        stored(5, EntryKind.EXTENSION, 0, balances=(300, 700, 0)),
        stored(6, EntryKind.EXPIRY, 700, balances=(300, 0, 700)),
        stored(7, EntryKind.REVERSAL, 0, 300, balances=(0, 0, 1000)),
    ]
    grant = GrantState("a", "m", "tokens", 1000, 0, 1000, 0, ClaimMethod.AUTO, CLAIMED, AT)
    entries = [claim_entry(grant), *(item.entry() for item in ledger)]
    for before, after in pairwise(entries):
        old, new = before.balances, after.balances
        assert after.delta == Balances(new.used - old.used, new.remaining - old.remaining, new.expired - old.expired)
        assert new.used + new.remaining + new.expired == 1000
        assert after.delta.used + after.delta.remaining + after.delta.expired == 0


@pytest.mark.parametrize(
    ("kind", "units", "expired_units", "delta"),
    [
        (EntryKind.CLAIM, 500, 0, Balances(0, 500, 0)),
        (EntryKind.USAGE, 7, 0, Balances(7, -7, 0)),
        (EntryKind.REVERSAL, 7, 0, Balances(-7, 7, 0)),
        (EntryKind.REVERSAL, 0, 7, Balances(-7, 0, 7)),
        (EntryKind.REVERSAL, 3, 4, Balances(-7, 3, 4)),
        (EntryKind.EXPIRY, 7, 0, Balances(0, -7, 7)),
        (EntryKind.VOID, 7, 0, Balances(0, -7, 7)),
        (EntryKind.EXTENSION, 7, 0, Balances(0, 0, 0)),
    ],
)
def test_what_each_kind_of_entry_moves(kind: EntryKind, units: int, expired_units: int, delta: Balances) -> None:
    assert delta_of(kind, units, expired_units) == delta


def test_a_reversals_units_are_returned_unless_said_expired() -> None:
    assert delta_of(EntryKind.REVERSAL, 7) == Balances(-7, 7, 0)


def test_a_page_takes_the_consecutive_entries_up_to_the_grants_last() -> None:
    entries = consecutive(1, [stored(2), stored(3), stored(4)], last=4)
    assert [entry.sequence for entry in entries] == [2, 3, 4]
    assert entries[0] == stored(2).entry()


def test_a_page_stops_before_an_entry_the_index_does_not_show_yet() -> None:
    assert [entry.sequence for entry in consecutive(1, [stored(2), stored(3), stored(5)], last=5)] == [2, 3]
    assert consecutive(3, [stored(5), stored(6)], last=6) == []


def test_a_page_never_shows_an_entry_past_the_grants_last() -> None:
    """The index may show an entry written after the grant was read: the next page shows it."""
    assert [entry.sequence for entry in consecutive(4, [stored(5), stored(6)], last=5)] == [5]
    assert consecutive(5, [stored(6)], last=5) == []
