"""A grant's ledger (R19): every entry that changed the grant, numbered without gaps, each with
the balances after it; paging exact."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.support import IMAGE, LANG_30, LANG_90, MILLION, START
from trial_ledger import (
    Balances,
    EntryKind,
    GrantNotFound,
    InvalidCursor,
    InvalidRequest,
    Ledger,
    LedgerEntry,
    SwitchableClock,
    UnknownModel,
    UsageAsk,
)


def whole_ledger(ledger: Ledger, account_id: str, model_id: str, limit: int = 100) -> list[LedgerEntry]:
    entries, cursor = [], None
    while True:
        page = ledger.grant_ledger(account_id, model_id, limit=limit, cursor=cursor)
        entries += page.entries
        if page.next_cursor is None:
            return entries
        cursor = page.next_cursor


def assert_chained(entries: list[LedgerEntry], quota: int) -> None:
    """Sequence 1, 2, 3...; every entry keeps the quota; each delta is its balances less the ones before."""
    before = Balances(0, 0, 0)
    for number, entry in enumerate(entries, start=1):
        after = entry.balances
        assert entry.sequence == number
        assert after.used + after.remaining + after.expired == quota
        assert min(after.used, after.remaining, after.expired) >= 0
        assert entry.delta == Balances(after.used - before.used, after.remaining - before.remaining,
                                       after.expired - before.expired)  # fmt: skip
        before = after


def test_claim_and_usage_are_entries_and_a_usage_without_free_units_is_not(ledger: Ledger) -> None:
    ledger.record_usage("a", IMAGE, 20, "r1")  # claims on first use (R3): the claim, then the usage
    ledger.record_usage("a", IMAGE, 30, "r2")  # empties the grant
    ledger.record_usage("a", IMAGE, 5, "r3")  # nothing free: in the usage history, not the ledger
    entries = whole_ledger(ledger, "a", IMAGE)
    assert [(entry.kind, entry.request_id) for entry in entries] == [
        (EntryKind.CLAIM, None), (EntryKind.USAGE, "r1"), (EntryKind.USAGE, "r2")]  # fmt: skip
    assert [entry.balances for entry in entries] == [Balances(0, 50, 0), Balances(20, 30, 0), Balances(50, 0, 0)]
    assert_chained(entries, 50)
    [grant] = ledger.grants("a")
    assert (grant.used, grant.remaining, grant.expired) == (50, 0, 0)  # the last entry's balances
    assert entries[0].at == grant.claimed_at
    assert (entries[1].action_id, entries[1].actor, entries[1].reason) == (None, None, None)


def test_batched_records_are_consecutive_entries(ledger: Ledger) -> None:
    asks = [UsageAsk("a", IMAGE, 7, f"b{n}") for n in range(10)]  # 50 images: the 8th takes the last 1
    ledger.record_usage_batch(asks)
    entries = whole_ledger(ledger, "a", IMAGE)
    assert [entry.request_id for entry in entries[1:]] == [f"b{n}" for n in range(8)]
    assert [entry.delta.used for entry in entries[1:]] == [7] * 7 + [1]
    assert_chained(entries, 50)


def test_the_expiry_is_the_last_entry(ledger: Ledger, clock: SwitchableClock) -> None:
    ledger.record_usage("a", LANG_30, 100, "r1")
    clock.freeze(START + timedelta(days=31))
    report = ledger.expire_due(clock.now())
    assert report.expired_quantity == MILLION - 100
    entries = whole_ledger(ledger, "a", LANG_30)
    assert [entry.kind for entry in entries] == [EntryKind.CLAIM, EntryKind.USAGE, EntryKind.EXPIRY]
    assert entries[-1].delta == Balances(0, -(MILLION - 100), MILLION - 100)
    assert_chained(entries, MILLION)
    assert ledger.expire_due(clock.now()).expired_grants == 0  # once: no second entry
    assert len(whole_ledger(ledger, "a", LANG_30)) == 3


@pytest.mark.parametrize("limit", [1, 2, 3, 7])
def test_paging_misses_and_repeats_nothing(ledger: Ledger, limit: int) -> None:
    for n in range(12):
        ledger.record_usage("a", LANG_90, 1_000 + n, f"r{n}")
    entries = whole_ledger(ledger, "a", LANG_90, limit=limit)
    assert [entry.sequence for entry in entries] == list(range(1, 14))
    assert entries == whole_ledger(ledger, "a", LANG_90)
    assert_chained(entries, MILLION)


def test_a_page_ends_before_an_entry_the_index_does_not_show_yet(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The index is eventually consistent: an entry missing from it ends the page, with a cursor
    to it, never a page that skips it."""
    for n in range(5):
        ledger.record_usage("a", LANG_90, 10, f"r{n}")
    queries = ledger._context.store.queries  # staging the index's lag
    original = queries.grant_entries

    def lagging(account_id: str, model_id: str, after: int, limit: int, last: int) -> list:  # type: ignore[type-arg]
        return [entry for entry in original(account_id, model_id, after, limit, last) if entry.stamp.sequence != 4]

    monkeypatch.setattr(queries, "grant_entries", lagging)
    page = ledger.grant_ledger("a", LANG_90, limit=10)
    assert [entry.sequence for entry in page.entries] == [1, 2, 3]
    assert page.next_cursor is not None
    monkeypatch.undo()
    rest = ledger.grant_ledger("a", LANG_90, limit=10, cursor=page.next_cursor)
    assert [entry.sequence for entry in rest.entries] == [4, 5, 6]
    assert rest.next_cursor is None


def test_no_grant_unknown_model_and_bad_cursors_are_refused(ledger: Ledger) -> None:
    with pytest.raises(GrantNotFound):
        ledger.grant_ledger("a", LANG_90)
    with pytest.raises(UnknownModel):
        ledger.grant_ledger("a", "nope")
    ledger.record_usage("a", LANG_90, 1, "r1")
    ledger.record_usage("a", LANG_90, 1, "r2")
    issued = ledger.grant_ledger("a", LANG_90, limit=1).next_cursor
    assert issued is not None
    bad = ["x", "e30", "eyJhZnRlciI6MH0", "eyJhZnRlciI6dHJ1ZX0", issued[:-4], issued.replace("p", "q", 1)]
    for cursor in bad:  # junk, {}, {"after":0}, {"after":true}, cut short, altered
        with pytest.raises(InvalidCursor):
            ledger.grant_ledger("a", LANG_90, cursor=cursor)
    ledger.record_usage("b", LANG_90, 1, "b1")
    ledger.record_usage("b", LANG_90, 1, "b2")
    other_grant = ledger.grant_ledger("b", LANG_90, limit=1).next_cursor
    with pytest.raises(InvalidCursor):  # another grant's cursor
        ledger.grant_ledger("a", LANG_90, cursor=other_grant)
    with pytest.raises(InvalidRequest):
        ledger.grant_ledger("a", LANG_90, limit=0)
