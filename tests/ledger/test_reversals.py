"""Reversals (R17): one usage undone once, within its window, as a new ledger entry; its free
units back to a usable grant (or expired), its billable part credited."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest

from tests.ledger.test_grant_ledger import assert_chained, whole_ledger
from tests.support import IMAGE, LANG_30, LANG_90, MILLION, START
from trial_ledger import (
    ActionAsk,
    Balances,
    EntryKind,
    HoldAsk,
    InvalidRequest,
    Ledger,
    RequestIdConflict,
    ReversalResult,
    ReversalWindowClosed,
    SwitchableClock,
    UsageNotFound,
)
from trial_ledger.domain.planning.reversal import ReversalCommit
from trial_ledger.dynamo.store import LedgerStore


def test_a_reversal_gives_the_free_units_back_once(ledger: Ledger) -> None:
    ledger.record_usage("a", LANG_90, 300, "r1")
    ledger.record_usage("a", LANG_90, 200, "r2")
    result = ledger.reverse_usage("r1", "the call failed after metering")
    assert (result.free_returned, result.free_expired, result.replayed) == (300, 0, False)
    assert result.billable_credited == Decimal(0)
    [grant] = ledger.grants("a")
    assert (grant.used, grant.remaining, grant.expired) == (200, MILLION - 200, 0)
    assert ledger.reverse_usage("r1", "the call failed after metering") == replace(result, replayed=True)
    with pytest.raises(RequestIdConflict):
        ledger.reverse_usage("r1", "another reason")
    assert ledger.grants("a") == [grant]  # neither the replay nor the conflict wrote anything
    entries = whole_ledger(ledger, "a", LANG_90)
    kinds = [(EntryKind.CLAIM, None), (EntryKind.USAGE, "r1"), (EntryKind.USAGE, "r2"), (EntryKind.REVERSAL, "r1")]
    assert [(entry.kind, entry.request_id) for entry in entries] == kinds
    assert entries[-1].delta == Balances(-300, 300, 0)
    assert entries[-1].reason == "the call failed after metering"
    assert_chained(entries, MILLION)


def test_a_reversed_usage_stays_taken(ledger: Ledger) -> None:
    first = ledger.record_usage("a", LANG_90, 300, "r1")
    reversal = ledger.reverse_usage("r1", "metered twice")
    again = ledger.record_usage("a", LANG_90, 300, "r1")
    assert again == replace(first, replayed=True, reversed_at=reversal.reversed_at)
    assert again.reversed
    with pytest.raises(RequestIdConflict):
        ledger.record_usage("a", LANG_90, 301, "r1")
    assert ledger.grants("a")[0].used == 0
    [listed] = ledger.usage("a").items
    assert listed.reversed_at == reversal.reversed_at


def test_a_billed_usage_is_credited_and_moves_no_free_unit(ledger: Ledger, activated: str) -> None:
    ledger.set_postpaid(activated, True)
    ledger.record_usage(activated, IMAGE, 50, "r1")  # the whole trial
    billed = ledger.record_usage(activated, IMAGE, 3, "r2")
    result = ledger.reverse_usage("r2", "failed")
    assert (result.free_returned, result.free_expired) == (0, 0)
    assert (result.currency, result.billable_credited) == ("CNY", billed.charge) == ("CNY", Decimal("0.6"))
    assert len(whole_ledger(ledger, activated, IMAGE)) == 2  # the claim and r1: a reversal of no free units is no entry


def test_on_an_expired_grant_the_units_are_recorded_as_expired(ledger: Ledger, clock: SwitchableClock) -> None:
    ledger.record_usage("a", LANG_30, 1, "r0")  # claims the 30-day trial at START
    clock.freeze(START + timedelta(days=29))
    ledger.record_usage("a", LANG_30, 100, "r1")
    clock.freeze(START + timedelta(days=30))  # the grant's expires_at: unusable from this instant (R5)
    result = ledger.reverse_usage("r1", "failed")
    assert (result.free_returned, result.free_expired) == (0, 100)
    [grant] = ledger.grants("a")
    assert (grant.used, grant.expired, grant.status.value) == (1, MILLION - 1, "expired")  # effective (R5)
    ledger.expire_due(clock.now())  # the nightly run expires the rest; 100 were expired by the reversal
    [grant] = ledger.grants("a")
    assert (grant.used, grant.remaining, grant.expired) == (1, 0, MILLION - 1)
    entries = whole_ledger(ledger, "a", LANG_30)
    assert [entry.kind for entry in entries][-2:] == [EntryKind.REVERSAL, EntryKind.EXPIRY]
    assert entries[-2].delta == Balances(-100, 0, 100)
    assert_chained(entries, MILLION)


def test_the_window_closes_seven_days_after_recorded_at(ledger: Ledger, clock: SwitchableClock) -> None:
    ledger.record_usage("a", LANG_90, 1, "r1")
    ledger.record_usage("a", LANG_90, 1, "r2")
    clock.freeze(START + timedelta(days=7) - timedelta(milliseconds=1))
    assert ledger.reverse_usage("r1", "failed").free_returned == 1
    clock.freeze(START + timedelta(days=7))
    with pytest.raises(ReversalWindowClosed):
        ledger.reverse_usage("r2", "failed")
    assert ledger.grants("a")[0].used == 1
    assert ledger.reverse_usage("r1", "failed").replayed  # a replay is an answer, not a new reversal


def test_what_cannot_be_reversed(ledger: Ledger) -> None:
    with pytest.raises(UsageNotFound):
        ledger.reverse_usage("never", "failed")
    ledger.hold(HoldAsk("a", LANG_90, "held-only", 10))
    with pytest.raises(UsageNotFound):  # a hold is not a usage
        ledger.reverse_usage("held-only", "failed")
    ledger.record_usage("a", LANG_90, 1, "r1")
    for reason in ("", "   ", "x" * 501):
        with pytest.raises(InvalidRequest):
            ledger.reverse_usage("r1", reason)
    assert ledger.reverse_usage("r1", "x" * 500).free_returned == 1


def test_units_back_to_an_exhausted_grant_are_free_again(ledger: Ledger) -> None:
    ledger.record_usage("a", IMAGE, 50, "r1")
    assert ledger.grants("a")[0].status.value == "exhausted"
    ledger.reverse_usage("r1", "failed")
    [grant] = ledger.grants("a")
    assert (grant.status.value, grant.remaining) == ("active", 50)
    assert ledger.record_usage("a", IMAGE, 10, "r2").free == 10


def test_a_stale_exhausted_snapshot_still_draws_what_a_reversal_gave_back(ledger: Ledger, other: Ledger) -> None:
    """The container that exhausted the grant keeps its snapshot ("exhausted"); another reverses a
    usage. The next usage in the first container must draw free first (R6): its postpaid check
    proves the account's revival count, which the reversal moved."""
    ledger.record_usage("a", IMAGE, 40, "r1")
    ledger.record_usage("a", IMAGE, 10, "r2")  # exhausted; this container remembers it so
    other.reverse_usage("r1", "failed")
    result = ledger.record_usage("a", IMAGE, 5, "r3")
    assert (result.free, result.unbilled_overage, result.free_remaining) == (5, 0, 35)


def rival(ledger: Ledger) -> Ledger:
    """Another container with its own store (the staged one is patched)."""
    return Ledger(store=LedgerStore(), catalog=ledger.catalog, clock=ledger.clock)


def test_a_reversal_that_loses_a_race_follows_the_winning_entry(
    ledger: Ledger, store: LedgerStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Staged: another container's usage lands between the reversal's read and its write. The
    reversal is refused (the grant's ledger moved on) and written as the next entry."""
    ledger.record_usage("a", LANG_90, 300, "r1")
    original = store.reversals.commit
    raced: list[int] = []

    def racing(commit: ReversalCommit) -> None:
        if not raced:
            raced.append(rival(ledger).record_usage("a", LANG_90, 7, "rival").free)
        original(commit)

    monkeypatch.setattr(store.reversals, "commit", racing)
    assert ledger.reverse_usage("r1", "failed").free_returned == 300
    entries = whole_ledger(ledger, "a", LANG_90)
    assert [(entry.kind, entry.request_id) for entry in entries[1:]] == [
        (EntryKind.USAGE, "r1"), (EntryKind.USAGE, "rival"), (EntryKind.REVERSAL, "r1")]  # fmt: skip
    assert_chained(entries, MILLION)
    assert ledger.grants("a")[0].used == 7


def test_two_reversals_of_one_usage_write_one(
    ledger: Ledger, store: LedgerStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Staged: two containers reverse the same usage; the second to write finds it reversed and
    answers the first reversal as a replay (or a conflict, with another reason)."""
    ledger.record_usage("a", LANG_90, 300, "r1")
    original = store.reversals.commit
    answers: list[ReversalResult] = []

    def racing(commit: ReversalCommit) -> None:
        if not answers:
            answers.append(rival(ledger).reverse_usage("r1", "failed"))
        original(commit)

    monkeypatch.setattr(store.reversals, "commit", racing)
    mine = ledger.reverse_usage("r1", "failed")
    assert mine == replace(answers[0], replayed=True)
    assert ledger.grants("a")[0].used == 0
    assert [entry.kind for entry in whole_ledger(ledger, "a", LANG_90)].count(EntryKind.REVERSAL) == 1


def test_a_reversal_that_loses_to_a_void_records_its_units_as_expired(
    ledger: Ledger, store: LedgerStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Staged: an operator voids the grant between the reversal's plan (units back to remaining)
    and its write. The write is refused (the grant's ledger moved on) and the reversal, planned
    again on the voided grant, records the units as expired: never back into a voided grant."""
    ledger.record_usage("a", LANG_90, 300, "r1")
    original = store.reversals.commit
    voided: list[int] = []

    def racing(commit: ReversalCommit) -> None:
        if not voided:
            voided.append(rival(ledger).void_grant(ActionAsk("act-1", "a", LANG_90, "ops", "abuse")).expired_quantity)
        original(commit)

    monkeypatch.setattr(store.reversals, "commit", racing)
    result = ledger.reverse_usage("r1", "failed")
    assert (voided, result.free_returned, result.free_expired) == ([MILLION - 300], 0, 300)
    [grant] = ledger.grants("a")
    assert (grant.status.value, grant.used, grant.remaining, grant.expired) == ("voided", 0, 0, MILLION)
    entries = whole_ledger(ledger, "a", LANG_90)
    assert [entry.kind for entry in entries] == [EntryKind.CLAIM, EntryKind.USAGE, EntryKind.VOID, EntryKind.REVERSAL]
    assert_chained(entries, MILLION)
