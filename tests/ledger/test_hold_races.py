"""Holds under staged races (the conflicting write is made first, then the condition path is
asserted) and under faults at the DynamoDB wire (a response lost after the write)."""

from collections.abc import Iterator
from datetime import timedelta

import pytest
from botocore.retries import standard

from infra.tools.audit import audit
from tests.support import IMAGE, DynamoCalls
from tests.support.faults import FaultInjector, injected_faults
from trial_ledger import HoldAsk, HoldStatus, Ledger, SwitchableClock
from trial_ledger.dynamo.store import LedgerStore
from trial_ledger.use_cases import metering as metering_module


@pytest.fixture
def always_relaxed(monkeypatch: pytest.MonkeyPatch) -> None:
    """As if every attempt had already lost its exact races: the relaxed conditions decide."""
    monkeypatch.setattr(metering_module, "EXACT_TRIES_UNDER_CONTENTION", 0)
    import trial_ledger.use_cases.holds

    monkeypatch.setattr(trial_ledger.use_cases.holds, "EXACT_TRIES_UNDER_CONTENTION", 0)


def held_and_remaining(store: LedgerStore) -> tuple[int, int]:
    _, grants = store.read_account("a", [IMAGE])
    return grants[IMAGE].held_total, grants[IMAGE].remaining


def test_a_hold_planned_on_a_stale_grant_is_refused_and_replanned(
    ledger: Ledger, other: Ledger, dynamo_calls: DynamoCalls
) -> None:
    ledger.authorize("a", IMAGE)  # this container has seen 50 available
    other.hold(HoldAsk("a", IMAGE, "theirs", 30))
    dynamo_calls.reset()
    mine = ledger.hold(HoldAsk("a", IMAGE, "mine", 30))
    assert (mine.held, mine.free_available) == (20, 0)
    assert dynamo_calls.operations == ["TransactWriteItems", "TransactWriteItems"]  # refusal carried the grant


def test_aba_a_removed_dead_entry_replaced_by_an_equal_live_hold(
    ledger: Ledger, other: Ledger, clock: SwitchableClock, store: LedgerStore
) -> None:
    """remaining and held_total are back to what this container saw, yet the units it counted as
    free (a timed-out period) are now reserved by a live hold: the cleared period's proof decides."""
    ledger.hold(HoldAsk("a", IMAGE, "dead", 5, ttl_seconds=30))
    clock.advance(timedelta(seconds=60))
    other.hold(HoldAsk("a", IMAGE, "live", 5))  # removes the dead period, adds a live one: same totals
    assert held_and_remaining(store) == (5, 50)
    mine = ledger.hold(HoldAsk("a", IMAGE, "mine", 50))
    assert mine.held == 45  # not 50: "live" keeps its 5
    assert held_and_remaining(store) == (50, 50)
    assert audit().ok


@pytest.mark.usefixtures("always_relaxed")
def test_a_relaxed_draw_meets_a_new_hold_for_its_own_request(ledger: Ledger, other: Ledger, store: LedgerStore) -> None:
    ledger.authorize("a", IMAGE)  # knows no hold
    other.hold(HoldAsk("a", IMAGE, "r1", 10))
    usage = ledger.record_usage("a", IMAGE, 4, "r1")  # must settle the hold, not bypass it
    assert (usage.free, usage.free_remaining) == (4, 46)
    assert held_and_remaining(store) == (0, 46)
    assert ledger.release_hold("r1").status is HoldStatus.SETTLED
    assert audit().ok


@pytest.mark.usefixtures("always_relaxed")
def test_a_relaxed_hold_cannot_reserve_what_another_hold_took(
    ledger: Ledger, other: Ledger, store: LedgerStore
) -> None:
    ledger.authorize("a", IMAGE)
    other.hold(HoldAsk("a", IMAGE, "theirs", 40))
    mine = ledger.hold(HoldAsk("a", IMAGE, "mine", 20))
    assert (mine.held, mine.free_available) == (10, 0)
    assert held_and_remaining(store) == (50, 50)
    assert audit().ok


@pytest.mark.usefixtures("always_relaxed")
def test_a_settle_at_its_hold_is_free_however_stale_and_contended(
    ledger: Ledger, other: Ledger, store: LedgerStore
) -> None:
    ledger.hold(HoldAsk("a", IMAGE, "mine", 10))
    other.record_usage("a", IMAGE, 40, "everything-else")
    usage = ledger.record_usage("a", IMAGE, 10, "mine")
    assert (usage.free, usage.unbilled_overage, usage.free_remaining) == (10, 0, 0)
    assert held_and_remaining(store) == (0, 0)
    assert audit().ok  # the grant also left the expiry index


def test_a_settle_that_lost_to_a_release_is_plain_usage(ledger: Ledger, other: Ledger, store: LedgerStore) -> None:
    ledger.hold(HoldAsk("a", IMAGE, "r1", 10))
    other.hold(HoldAsk("a", IMAGE, "big", 40))
    assert other.release_hold("r1").status is HoldStatus.RELEASED
    usage = ledger.record_usage("a", IMAGE, 20, "r1")  # its snapshot still shows the hold
    assert (usage.free, usage.unbilled_overage) == (10, 10)  # what "big" leaves, no more
    assert held_and_remaining(store) == (40, 40)
    assert audit().ok


def test_the_nightly_expiry_racing_a_hold_leaves_nothing_reserved(
    ledger: Ledger, other: Ledger, clock: SwitchableClock, store: LedgerStore
) -> None:
    ledger.record_usage("a", IMAGE, 1, "seed")
    clock.advance(timedelta(days=90) - timedelta(minutes=1))
    ledger.hold(HoldAsk("a", IMAGE, "h", 10))
    clock.advance(timedelta(minutes=1))
    other.expire_due(clock.now())
    assert held_and_remaining(store) == (0, 0)
    assert ledger.record_usage("a", IMAGE, 5, "h").free == 0
    assert audit().ok


@pytest.fixture
def faults(monkeypatch: pytest.MonkeyPatch, dynamodb: object) -> Iterator[FaultInjector]:
    monkeypatch.setattr(standard.ExponentialBackoff, "delay_amount", lambda self, context: 0.0)
    with injected_faults(monkeypatch) as injector:
        yield injector


def test_a_hold_whose_response_was_lost_holds_once(ledger: Ledger, faults: FaultInjector, store: LedgerStore) -> None:
    ledger.authorize("a", IMAGE)
    faults.fail("TransactWriteItems", "timeout_after_write", times=1)
    first = ledger.hold(HoldAsk("a", IMAGE, "h1", 30))
    assert (first.held, first.replayed, first.free_available) == (30, False, 20)
    assert faults.injected == ["TransactWriteItems:timeout_after_write"]
    assert held_and_remaining(store) == (30, 50)
    assert ledger.hold(HoldAsk("a", IMAGE, "h1", 30)).replayed is True
    assert held_and_remaining(store) == (30, 50)


def test_a_settle_whose_response_was_lost_settles_once(
    ledger: Ledger, faults: FaultInjector, store: LedgerStore
) -> None:
    ledger.hold(HoldAsk("a", IMAGE, "h1", 30))
    faults.fail("TransactWriteItems", "timeout_after_write", times=1)
    usage = ledger.record_usage("a", IMAGE, 25, "h1")
    assert (usage.free, usage.replayed, usage.free_remaining) == (25, False, 25)
    assert held_and_remaining(store) == (0, 25)
    assert ledger.record_usage("a", IMAGE, 25, "h1").replayed is True
    assert held_and_remaining(store) == (0, 25)
    assert audit().ok


def test_a_release_whose_response_was_lost_is_answered(
    ledger: Ledger, faults: FaultInjector, store: LedgerStore
) -> None:
    ledger.hold(HoldAsk("a", IMAGE, "h1", 30))
    faults.fail("TransactWriteItems", "timeout_after_write", times=1)
    assert ledger.release_hold("h1").status is HoldStatus.RELEASED
    assert held_and_remaining(store) == (0, 50)
    assert audit().ok


def test_aba_a_released_hold_replaced_by_an_equal_hold_of_this_request(
    ledger: Ledger, other: Ledger, store: LedgerStore
) -> None:
    """remaining and held_total are what this container saw, but the live hold it saw is gone and
    one of the same size now belongs to the very request it records: it must settle that hold."""
    ledger.hold(HoldAsk("a", IMAGE, "x", 45))
    other.release_hold("x")
    other.hold(HoldAsk("a", IMAGE, "r", 45))
    usage = ledger.record_usage("a", IMAGE, 45, "r")
    assert (usage.free, usage.unbilled_overage) == (45, 0)
    assert held_and_remaining(store) == (0, 5)
    assert ledger.release_hold("r").status is HoldStatus.SETTLED
    assert audit().ok


def test_nothing_free_on_a_snapshot_of_holds_is_proven_by_the_grant(ledger: Ledger, other: Ledger) -> None:
    """This container saw every unit held by others; elsewhere the hold ended. Usage is written
    as an exact draw of 0 units, refused, and planned again on the grant as it is: free, not
    overage (it used to be recorded as overage, for as long as the stale holds would have lived)."""
    ledger.hold(HoldAsk("a", IMAGE, "y", 50))
    other.release_hold("y")
    result = ledger.record_usage("a", IMAGE, 10, "r1")
    assert (result.free, result.unbilled_overage, result.free_remaining) == (10, 0, 40)


def test_a_usage_meets_its_own_hold_taken_elsewhere_on_a_fully_held_snapshot(ledger: Ledger, other: Ledger) -> None:
    ledger.hold(HoldAsk("a", IMAGE, "y", 50))
    other.release_hold("y")
    other.hold(HoldAsk("a", IMAGE, "x", 30))
    result = ledger.record_usage("a", IMAGE, 20, "x")
    assert (result.free, result.unbilled_overage) == (20, 0)  # R16: within its live hold, all free
    assert other.release_hold("x").status is HoldStatus.SETTLED


def test_a_request_clears_its_own_timed_out_entry_first(ledger: Ledger, clock: SwitchableClock) -> None:
    """More timed-out entries than one write clears: the request's own is among those cleared (its
    proof of no hold would fail on it on every attempt otherwise, a 503 until the sweep)."""
    for n in range(26):
        ledger.hold(HoldAsk("a", IMAGE, f"a{n:02d}", 1, ttl_seconds=30))
    ledger.hold(HoldAsk("a", IMAGE, "zz", 1, ttl_seconds=30))
    clock.advance(timedelta(seconds=31))
    result = ledger.record_usage("a", IMAGE, 5, "zz")
    assert (result.free, result.unbilled_overage) == (5, 0)
    assert audit().ok


def test_the_sweep_meets_a_period_a_write_removed(
    ledger: Ledger, other: Ledger, clock: SwitchableClock, store: LedgerStore
) -> None:
    """A timed-out period removed by another write: the sweep's decrement is refused by its proof
    (``held_units.<p> >= :h``) and the hold closes alone; nothing goes negative."""
    ledger.hold(HoldAsk("a", IMAGE, "dead", 5, ttl_seconds=30))
    clock.advance(timedelta(seconds=61))
    other.hold(HoldAsk("a", IMAGE, "live", 5))  # opens a new period, removes the dead one
    _, grants = store.read_account("a", [IMAGE])
    assert [period.units for period in grants[IMAGE].holds] == [5]
    report = ledger.sweep_holds(clock.now())
    assert (report.closed_holds, report.returned_units) == (1, 5)
    _, grants = store.read_account("a", [IMAGE])
    assert [period.units for period in grants[IMAGE].holds] == [5]  # the live hold's, untouched
    assert (grants[IMAGE].held_total, grants[IMAGE].unreserved) == (5, 45)
    assert ledger.release_hold("dead").status is HoldStatus.EXPIRED
    assert audit().ok
