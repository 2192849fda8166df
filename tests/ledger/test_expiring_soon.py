"""The nightly run marks grants that expire soon, once each, through the sparse expiry index."""

from datetime import timedelta

from tests.support import IMAGE, LANG_30, LANG_90, DynamoCalls
from trial_ledger import Ledger, SwitchableClock
from trial_ledger.dynamo.items import GrantItem
from trial_ledger.dynamo.keys import grant_key

WEEK = timedelta(days=7)


def mark(grant_account: str, model_id: str) -> str | None:
    item = GrantItem.get(*grant_key(grant_account, model_id), consistent_read=True)
    return item.expiring_soon_notified_at


def test_marks_grants_expiring_within_the_window_once(ledger: Ledger, clock: SwitchableClock) -> None:
    ledger.authorize("a", LANG_30)  # expires 2026-03-31T08:00Z
    ledger.authorize("a", LANG_90)  # expires 2026-05-30T08:00Z
    clock.advance(timedelta(days=24))  # 2026-03-25T08:00Z: the 30-day trial has 6 days left
    report = ledger.mark_expiring_soon(clock.now(), WEEK)
    assert (report.marked_grants, report.complete) == (1, True)
    assert mark("a", LANG_30) == "2026-03-25T08:00:00.000Z"
    assert mark("a", LANG_90) is None
    clock.advance(timedelta(days=1))
    assert ledger.mark_expiring_soon(clock.now(), WEEK).marked_grants == 0  # once per grant, ever
    assert mark("a", LANG_30) == "2026-03-25T08:00:00.000Z"


def test_the_window_is_open_before_and_closed_after(ledger: Ledger, clock: SwitchableClock) -> None:
    ledger.authorize("a", LANG_30)  # expires 2026-03-31T08:00Z
    clock.advance(timedelta(days=23))  # exactly 7 days before: inside (as_of, as_of + window]
    assert ledger.mark_expiring_soon(clock.now(), WEEK).marked_grants == 1
    ledger.authorize("b", LANG_30)  # expires 2026-04-23T08:00Z
    clock.advance(timedelta(days=23, milliseconds=-1))  # 7 days and 1 ms before
    assert ledger.mark_expiring_soon(clock.now(), WEEK).marked_grants == 0


def test_due_and_used_up_grants_are_not_expiring_soon(
    ledger: Ledger, clock: SwitchableClock, dynamo_calls: DynamoCalls
) -> None:
    ledger.authorize("a", LANG_30)
    ledger.record_usage("b", IMAGE, 50, "r1")  # all 50 images used: out of the index
    clock.advance(timedelta(days=30))  # a's trial is due now (as_of == expires_at): expiry's, not ours
    dynamo_calls.reset()
    assert ledger.mark_expiring_soon(clock.now(), timedelta(days=90)).marked_grants == 0
    assert dynamo_calls.writes() == []  # nothing even attempted
    assert (mark("a", LANG_30), mark("b", IMAGE)) == (None, None)


def test_stops_when_told_and_marks_nothing(ledger: Ledger, clock: SwitchableClock) -> None:
    ledger.authorize("a", LANG_30)
    clock.advance(timedelta(days=25))
    report = ledger.mark_expiring_soon(clock.now(), WEEK, keep_going=lambda: False)
    assert (report.marked_grants, report.complete) == (0, False)
