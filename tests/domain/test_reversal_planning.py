"""Planning a reversal (R17), a pure function: exactly the usage's free units back (R9), to
``remaining`` while its grant is usable at now, to ``expired`` from ``expires_at`` on (R5); the
grant's next ledger entry (R19); the peak kept for the once-per-grant events; the revival of an
exhausted grant; and the window, which runs from the usage's ``recorded_at``."""

from datetime import timedelta

import pytest

from tests.support import IMAGE, START
from trial_ledger import ClaimMethod, format_timestamp, parse_timestamp
from trial_ledger.domain.planning.reversal import ReversalCommit, plan_reversal, window_closes
from trial_ledger.domain.state import GrantState, LedgerStamp, Reversal, UsageRecord

NOW = format_timestamp(START)
RECORDED = "2026-02-27T10:30:00.250Z"
EXPIRES = "2026-05-30T08:00:00.000Z"
REASON = "metered twice"
CLAIMED = "2026-02-01T00:00:00.000Z"


def usage(free: int = 40, billable: int = 2) -> UsageRecord:
    return UsageRecord("r1", "a", IMAGE, None, free + billable, free, billable, 0, "CNY", "0.2", "0.4", 10, False,
                       RECORDED, "f", "w-1")  # fmt: skip


def grant(used: int = 100, remaining: int = 900, expired: int = 0, entries: int = 5, peak_used: int = 0) -> GrantState:
    return GrantState("a", IMAGE, "images", 1000, used, remaining, expired, ClaimMethod.AUTO, CLAIMED, EXPIRES,
                      entries=entries, peak_used=peak_used)  # fmt: skip


def test_a_reversal_gives_the_free_units_back_to_a_usable_grant_as_its_next_entry() -> None:
    commit = plan_reversal(usage(), grant(), REASON, START)
    assert commit == ReversalCommit(
        usage(), Reversal(NOW, REASON, 40, 0), LedgerStamp(6, 60, 940, 0), expected_entries=5, peak_used=100
    )
    assert (commit.now, commit.usable, commit.revives) == (NOW, True, False)


@pytest.mark.parametrize("past", [timedelta(0), timedelta(days=3)])
def test_from_expires_at_on_the_free_units_are_recorded_as_expired(past: timedelta) -> None:
    now = parse_timestamp(EXPIRES) + past
    commit = plan_reversal(usage(), grant(remaining=0, expired=900), REASON, now)
    assert commit.reversal == Reversal(format_timestamp(now), REASON, 0, 40)
    assert commit.entry == LedgerStamp(6, 60, 0, 940)
    assert (commit.now, commit.usable, commit.revives) == (format_timestamp(now), False, False)
    before_the_nightly_expiry = plan_reversal(usage(), grant(), REASON, now)  # its remainder still recorded
    assert before_the_nightly_expiry.entry == LedgerStamp(6, 60, 900, 40)


def test_one_millisecond_before_expires_at_the_grant_is_still_usable() -> None:
    now = parse_timestamp(EXPIRES) - timedelta(milliseconds=1)
    commit = plan_reversal(usage(), grant(), REASON, now)
    assert (commit.reversal.free_returned, commit.reversal.free_expired, commit.usable) == (40, 0, True)
    assert commit.entry == LedgerStamp(6, 60, 940, 0)


@pytest.mark.parametrize("free", [1, 40])
def test_units_back_to_a_grant_whose_remainder_is_0_revive_it(free: int) -> None:
    commit = plan_reversal(usage(free), grant(used=1000, remaining=0), REASON, START)
    assert commit.revives
    assert commit.entry == LedgerStamp(6, 1000 - free, free, 0)


def test_a_grant_with_a_remainder_left_is_not_revived() -> None:
    assert not plan_reversal(usage(), grant(used=999, remaining=1), REASON, START).revives


def test_peak_used_keeps_the_highest_used() -> None:
    assert plan_reversal(usage(), grant(used=300, remaining=700), REASON, START).peak_used == 300
    lowered = plan_reversal(usage(), grant(used=300, remaining=700, peak_used=500), REASON, START)
    assert lowered.peak_used == 500  # an earlier reversal lowered used from 500


@pytest.mark.parametrize("with_grant", [True, False])
def test_a_usage_that_drew_nothing_free_changes_no_grant_and_is_no_entry(with_grant: bool) -> None:
    nothing_free = usage(free=0, billable=12)
    commit = plan_reversal(nothing_free, grant() if with_grant else None, REASON, START)
    assert commit == ReversalCommit(nothing_free, Reversal(NOW, REASON, 0, 0), None)
    assert (commit.now, commit.usable, commit.revives) == (NOW, True, False)


def test_the_window_closes_exactly_its_length_after_recorded_at() -> None:
    assert window_closes(usage(), timedelta(days=7)) == "2026-03-06T10:30:00.250Z"
    assert window_closes(usage(), timedelta(hours=1)) == "2026-02-27T11:30:00.250Z"
    still_open = format_timestamp(parse_timestamp(RECORDED) + timedelta(days=7, milliseconds=-1))
    assert still_open < window_closes(usage(), timedelta(days=7))
