"""Planning holds and settles (pure functions, no DynamoDB): availability with live and dead
periods, the hold plan (its rounded end, its period), the settle plan, and the stop reasons
including free_quota_held."""

from dataclasses import replace
from datetime import timedelta

import pytest

from tests.support import IMAGE, NO_TRIAL, START
from trial_ledger import ClaimMethod, HoldStatus, StopReason, format_timestamp
from trial_ledger.config.catalog import default_catalog_document, parse_catalog
from trial_ledger.domain.hold_periods import HOLD_PERIOD_SECONDS, hold_expiry, period_end, period_of
from trial_ledger.domain.planning.draws import MAX_CLEARS_PER_WRITE, Attempt, after_draw, dead_to_clear
from trial_ledger.domain.planning.hold import CheckedHold, plan_hold
from trial_ledger.domain.planning.usage import CheckedUsage, UsagePlan, plan_usage
from trial_ledger.domain.state import GrantState, HeldPeriod, HoldRecord, ProfileState
from trial_ledger.domain.writes import GrantDraw, HoldCommit, NewGrant
from trial_ledger.results import FundingSource

CATALOG = parse_catalog(default_catalog_document())
NOW = format_timestamp(START)
LATER = format_timestamp(START + timedelta(minutes=10))
EARLIER = format_timestamp(START - timedelta(seconds=1))
OFF = ProfileState("a", NOW, postpaid_enabled=False)
ON = ProfileState("a", NOW, postpaid_enabled=True)


def grant(remaining: int = 50, *holds: HeldPeriod, model_id: str = IMAGE) -> GrantState:
    quota = CATALOG[model_id].trial.quota  # type: ignore[union-attr]
    return GrantState("a", model_id, CATALOG[model_id].unit, quota, quota - remaining, remaining, 0,
                      ClaimMethod.AUTO, "2026-03-01T00:00:00.000Z", "2026-05-30T00:00:00.000Z", holds)  # fmt: skip


def live(units: int, minutes: int = 10) -> HeldPeriod:
    return HeldPeriod(format_timestamp(START + timedelta(minutes=minutes)), units)


def dead(units: int, minutes_ago: int = 0) -> HeldPeriod:
    return HeldPeriod(format_timestamp(START - timedelta(minutes=minutes_ago)), units)  # nothing at its end


def own_hold(held: int, expires_at: str = LATER, status: HoldStatus = HoldStatus.OPEN) -> HoldRecord:
    return HoldRecord("h1", "a", IMAGE, None, held, held, FundingSource.FREE, 0, False, EARLIER, expires_at, 600,
                      status, None, "f", "w-0")  # fmt: skip


def attempt(relaxed: bool = False, campaign_open: bool = True) -> Attempt:
    return Attempt(now=START, campaign_open=campaign_open, relaxed=relaxed, write_id="w-1")


def hold_request(estimate: int, model_id: str = IMAGE, ttl: int = 900) -> CheckedHold:
    return CheckedHold(CATALOG[model_id], "a", "h1", estimate, None, ttl, "f")


def usage_request(quantity: int, request_id: str = "h1") -> CheckedUsage:
    return CheckedUsage(CATALOG[IMAGE], "a", quantity, request_id, None, "f")


def test_a_holds_end_rounds_up_to_the_period_and_an_end_on_a_boundary_stays() -> None:
    assert HOLD_PERIOD_SECONDS <= 60  # the contract's bound
    assert period_end(START) == START
    assert period_end(START + timedelta(milliseconds=1)) == START + timedelta(seconds=HOLD_PERIOD_SECONDS)
    assert period_end(START + timedelta(seconds=HOLD_PERIOD_SECONDS - 1)) == START + timedelta(seconds=60)
    assert hold_expiry(START, 30, None) == format_timestamp(START + timedelta(seconds=60))
    assert hold_expiry(START, 900, None) == format_timestamp(START + timedelta(seconds=900))
    assert hold_expiry(START + timedelta(seconds=1), 900, None) == format_timestamp(START + timedelta(seconds=960))
    cut = format_timestamp(START + timedelta(seconds=100))
    assert hold_expiry(START, 3600, cut) == cut  # never after its grant's validity
    assert period_of(cut) == format_timestamp(START + timedelta(seconds=120))  # counts in the next period


def test_availability_counts_live_periods_only() -> None:
    state = grant(50, dead(20), live(10), live(5, minutes=11))
    assert (state.held(NOW), state.available(NOW)) == (15, 35)
    assert (state.held_total, state.unreserved) == (35, 15)
    assert state.available(EARLIER) == 15  # before its end the dead period reserved too
    assert state.available("2026-05-30T00:00:00.000Z") == 0  # the grant's expiry ends everything
    assert state.period(LATER) == live(10)
    assert state.period(EARLIER) is None
    assert state.dead_periods(NOW) == (dead(20),)


def test_a_hold_reserves_what_is_available_in_its_period_and_clears_dead_periods() -> None:
    plan = plan_hold(hold_request(40), grant(50, dead(20), live(10)), OFF, attempt())
    assert plan.commit is not None
    draw = plan.commit.draw
    assert draw is not None
    assert (draw.exact, draw.free, draw.expected_remaining, draw.expected_held) == (True, 0, 50, 30)
    assert draw.clears == (dead(20),)
    ends = format_timestamp(START + timedelta(seconds=900))
    assert (draw.adds, plan.commit.hold.expires_at) == (HeldPeriod(ends, 40), ends)
    assert (plan.commit.hold.held, plan.commit.hold.free_available, plan.commit.hold.source) == (
        40, 0, FundingSource.FREE)  # fmt: skip
    assert draw.held_after == 50  # 10 + 40; the dead 20 removed
    assert plan.grant_after is not None
    assert plan.grant_after.holds == (live(10), HeldPeriod(ends, 40))


def test_a_hold_is_the_request_as_taken() -> None:
    request = CheckedHold(CATALOG[IMAGE], "a", "h1", 12, "key-1", 900, "f-h")
    plan = plan_hold(request, grant(50, live(10)), OFF, attempt())
    ends = format_timestamp(START + timedelta(seconds=900))
    assert plan.commit == HoldCommit(
        HoldRecord(request_id="h1", account_id="a", model_id=IMAGE, sub_account_id="key-1", estimate=12, held=12,
                   source=FundingSource.FREE, free_available=28, auto_claimed=False, created_at=NOW, expires_at=ends,
                   ttl_seconds=900, status=HoldStatus.OPEN, closed_at=None, fingerprint="f-h", write_id="w-1"),
        draw=GrantDraw(IMAGE, 50, 0, NOW, exact=True, expected_held=10, adds=HeldPeriod(ends, 12)))  # fmt: skip
    assert plan.grant_after == grant(50, live(10), HeldPeriod(ends, 12))


def test_holds_ending_in_one_period_share_its_entry() -> None:
    ends = format_timestamp(START + timedelta(seconds=900))
    plan = plan_hold(hold_request(5), grant(50, HeldPeriod(ends, 7)), OFF, attempt())
    assert plan.grant_after is not None
    assert plan.grant_after.holds == (HeldPeriod(ends, 12),)


def test_a_hold_is_capped_by_the_grants_expiry() -> None:
    near_end = replace(grant(50), expires_at=format_timestamp(START + timedelta(seconds=100)))
    plan = plan_hold(hold_request(5, ttl=3600), near_end, OFF, attempt())
    assert plan.commit is not None
    assert plan.commit.hold.expires_at == near_end.expires_at
    assert plan.commit.draw is not None
    assert plan.commit.draw.adds == HeldPeriod(format_timestamp(START + timedelta(seconds=120)), 5)


def test_partial_hold_and_the_stop_reasons() -> None:
    partial = plan_hold(hold_request(40), grant(50, live(30)), OFF, attempt())
    assert partial.commit is not None
    assert (partial.commit.hold.held, partial.commit.hold.free_available) == (20, 0)
    held = plan_hold(hold_request(1), grant(50, live(50)), OFF, attempt())
    assert (held.commit, held.refusal, held.grant_after) == (None, StopReason.HELD, grant(50, live(50)))
    exhausted = plan_hold(hold_request(1), grant(0), OFF, attempt())
    assert exhausted.refusal is StopReason.EXHAUSTED
    no_trial = plan_hold(hold_request(1, model_id=NO_TRIAL), None, OFF, attempt())
    assert no_trial.refusal is StopReason.NO_FREE_QUOTA
    closed = plan_hold(hold_request(1), None, OFF, attempt(campaign_open=False))
    assert closed.refusal is StopReason.NO_FREE_QUOTA


def test_with_postpaid_nothing_available_is_a_hold_of_zero() -> None:
    plan = plan_hold(hold_request(10, ttl=30), grant(50, live(50)), ON, attempt())
    assert plan.commit is not None
    assert (plan.commit.hold.held, plan.commit.hold.source, plan.commit.draw) == (0, FundingSource.POSTPAID, None)
    assert plan.commit.expect_postpaid is True
    assert plan.commit.hold.expires_at == format_timestamp(START + timedelta(seconds=60))
    assert plan.commit.hold.free_available == 0  # known: nothing was available
    assert plan.grant_after == grant(50, live(50))  # a hold of 0 units leaves its grant as it was


def test_the_first_hold_claims_the_trial_with_its_period() -> None:
    plan = plan_hold(CheckedHold(CATALOG[IMAGE], "a", "h1", 60, "key-1", 900, "f"), None, OFF, attempt())
    assert plan.commit is not None
    ends = format_timestamp(START + timedelta(seconds=900))
    claimed = GrantState("a", IMAGE, "images", 50, 0, 50, 0, ClaimMethod.AUTO, NOW,
                         format_timestamp(START + timedelta(days=90)), (HeldPeriod(ends, 50),))  # fmt: skip
    assert (plan.commit.new_grant, plan.commit.draw, plan.grant_after) == (NewGrant(claimed, "key-1"), None, claimed)
    assert (plan.commit.hold.held, plan.commit.hold.free_available, plan.commit.hold.auto_claimed) == (50, 0, True)


def test_a_relaxed_hold_only_when_unreserved_covers_it_and_clears_only_for_a_new_period() -> None:
    ends = format_timestamp(START + timedelta(seconds=900))
    covered = plan_hold(hold_request(10), grant(50, dead(5), HeldPeriod(ends, 30)), OFF, attempt(relaxed=True))
    assert covered.commit is not None
    assert covered.commit.draw is not None
    assert (covered.commit.draw.exact, covered.commit.hold.free_available) == (False, None)
    assert covered.commit.draw.clears == ()  # its period exists: nothing new to bound
    opening = plan_hold(hold_request(10), grant(50, dead(5), live(30)), OFF, attempt(relaxed=True))
    assert opening.commit is not None
    assert opening.commit.draw is not None
    assert (opening.commit.draw.exact, opening.commit.draw.clears) == (False, (dead(5),))
    # A hold takes nothing from remaining: all that no period reserves is still covered.
    everything = plan_hold(hold_request(20), grant(50, live(30)), OFF, attempt(relaxed=True))
    assert everything.commit is not None
    assert everything.commit.draw is not None
    assert (everything.commit.draw.exact, everything.commit.hold.held) == (False, 20)
    partial = plan_hold(hold_request(30), grant(50, live(30)), OFF, attempt(relaxed=True))
    assert partial.commit is not None
    assert partial.commit.draw is not None
    assert partial.commit.draw.exact is True  # 20 of 30: depends on the exact state


@pytest.mark.parametrize(("quantity", "free", "overage"), [(4, 4, 0), (10, 10, 0), (25, 25, 0), (60, 40, 20)])
def test_a_settle_takes_its_hold_first_then_what_others_leave(quantity: int, free: int, overage: int) -> None:
    state = grant(50, live(20))  # h1's 10 and another hold's 10 end in the same period
    plan = plan_usage(usage_request(quantity), state, OFF, attempt(), own_hold(10))
    usage, draw = plan.commit.usage, plan.commit.draw
    assert draw is not None
    assert (usage.free, usage.unbilled_overage, usage.free_remaining) == (free, overage, 40 - free)
    assert (draw.releases, plan.commit.call.settles) == ((live(10),), True)
    assert draw.held_after == 10


def test_a_settle_within_its_hold_may_relax_even_when_nothing_else_is_free() -> None:
    plan = plan_usage(usage_request(10), grant(10, live(10)), OFF, attempt(relaxed=True), own_hold(10))
    assert plan.commit.draw is not None
    assert (plan.commit.draw.exact, plan.commit.usage.free) == (False, 10)


def test_a_usage_on_an_ended_hold_is_plain_usage_on_its_item() -> None:
    timed_out = own_hold(40, expires_at=NOW)
    plan = plan_usage(usage_request(30), grant(50, dead(40)), OFF, attempt(relaxed=True), timed_out)
    assert plan.commit.draw is not None
    assert (plan.commit.call.hold, plan.commit.call.settles, plan.commit.draw.releases) == (timed_out, False, ())
    assert (plan.commit.draw.exact, plan.commit.draw.clears) == (True, (dead(40),))
    assert split_of(plan) == (30, 0)
    released = own_hold(40, status=HoldStatus.RELEASED)
    again = plan_usage(usage_request(30), grant(50), OFF, attempt(), released)
    assert (again.commit.call.settles, split_of(again)) == (False, (30, 0))


def test_a_settle_of_a_zero_unit_hold_ends_it_and_draws_like_plain_usage() -> None:
    postpaid = replace(own_hold(0), source=FundingSource.POSTPAID)
    plan = plan_usage(usage_request(30), grant(50, live(50)), ON, attempt(), postpaid)
    assert plan.commit.call.settles is True
    assert (split_of(plan), plan.commit.usage.billable) == ((0, 0), 30)
    assert plan.commit.draw == GrantDraw(IMAGE, 50, 0, NOW, exact=True, expected_held=50)  # no period to release


def test_a_settle_of_a_one_unit_hold_takes_its_unit() -> None:
    plan = plan_usage(usage_request(3), grant(10, live(10)), OFF, attempt(), own_hold(1))
    assert (split_of(plan), plan.commit.usage.free_remaining) == ((1, 2), 0)
    assert plan.commit.draw == GrantDraw(
        IMAGE, 10, 1, NOW, exact=True, expected_held=10, releases=(live(1),), entries=1
    )


def test_plain_usage_draws_around_live_holds() -> None:
    plan = plan_usage(usage_request(30, "plain"), grant(50, live(40)), OFF, attempt())
    assert split_of(plan) == (10, 20)
    assert (plan.commit.call.hold, plan.commit.call.settles) == (None, False)


def test_dead_periods_beyond_the_cap_stay_reserved() -> None:
    periods = [dead(1, minutes_ago=index) for index in range(MAX_CLEARS_PER_WRITE + 5)]
    plan = plan_usage(usage_request(50, "plain"), grant(50, *sorted(periods)), OFF, attempt())
    assert plan.commit.draw is not None
    assert len(plan.commit.draw.clears) == MAX_CLEARS_PER_WRITE
    assert plan.commit.draw.clears == tuple(sorted(periods)[:MAX_CLEARS_PER_WRITE])  # oldest first
    assert split_of(plan) == (45, 5)


def test_dead_periods_beyond_the_cap_stay_reserved_for_a_hold_too() -> None:
    periods = sorted(dead(1, minutes_ago=index) for index in range(MAX_CLEARS_PER_WRITE + 5))
    plan = plan_hold(hold_request(50), grant(50, *periods), OFF, attempt())
    assert plan.commit is not None
    assert plan.commit.draw is not None
    assert (plan.commit.hold.held, plan.commit.hold.free_available) == (45, 0)
    assert plan.commit.draw.clears == tuple(periods[:MAX_CLEARS_PER_WRITE])  # oldest first
    assert plan.grant_after is not None
    assert plan.grant_after.dead_periods(NOW) == tuple(periods[MAX_CLEARS_PER_WRITE:])


def test_a_usage_after_its_hold_timed_out_clears_its_period_first_beyond_the_cap() -> None:
    """Its hold ended at ``NOW``: the usage is plain usage on its item. Its dead period holds the
    most units of the 26 dead ones, so this write removes it first and leaves one older 1-unit
    period, which still counts as reserved, under contention too, for a later write."""
    older = [dead(1, minutes_ago=30 + index) for index in range(MAX_CLEARS_PER_WRITE)]
    timed_out = own_hold(20, expires_at=NOW)
    state = grant(50, *sorted(older), HeldPeriod(NOW, 20))
    for relaxed in (False, True):
        plan = plan_usage(usage_request(50), state, OFF, attempt(relaxed=relaxed), timed_out)
        assert plan.commit.draw is not None
        assert (plan.commit.call.settles, plan.commit.draw.exact, plan.commit.draw.releases) == (False, True, ())
        assert plan.commit.draw.clears == (HeldPeriod(NOW, 20), *sorted(older)[: MAX_CLEARS_PER_WRITE - 1])
        assert (split_of(plan), plan.commit.usage.free_remaining) == ((49, 1), 1)  # as read, dead reserves nothing
        assert plan.grant_after is not None
        assert plan.grant_after.holds == (sorted(older)[-1],)


def test_a_write_clears_the_dead_periods_that_still_count_before_the_emptied_ones() -> None:
    """The sweep empties the oldest periods first: 25 emptied ones and 5 newer ones of 10 units,
    nothing live, 50 left. A hold, and a usage, see all 50 free (the 5 counting periods go first)."""
    emptied = [dead(0, minutes_ago=40 + index) for index in range(MAX_CLEARS_PER_WRITE)]
    counting = [dead(10, minutes_ago=1 + index) for index in range(5)]
    state = grant(50, *sorted([*emptied, *counting]))
    held = plan_hold(hold_request(50), state, OFF, attempt())
    assert held.commit is not None
    assert held.commit.hold.held == 50
    assert held.commit.draw is not None
    assert set(held.commit.draw.clears[:5]) == set(counting)
    used = plan_usage(usage_request(50, "plain"), state, OFF, attempt())
    assert split_of(used) == (50, 0)


def test_a_write_clears_nothing_on_a_grant_past_its_expiry() -> None:
    """The nightly expiry empties its periods; nothing is left for a later write either."""
    state = replace(grant(50, dead(20), live(10)), expires_at=NOW)
    assert dead_to_clear(state, NOW) == ((), 0)
    assert dead_to_clear(grant(50, dead(20), live(10)), NOW) == ((dead(20),), 0)


def test_the_grant_a_draw_leaves_is_the_stores_update_applied_to_the_snapshot() -> None:
    """Periods move by the draw's relative amounts, as ``held_units.<p>`` does in the store, so
    its ``held_total`` is the one the write leaves, even on a snapshot that lacks the period a
    settle gives units back to (it was read before the hold was taken)."""
    stale = grant(50, dead(5), live(7))
    draw = GrantDraw(IMAGE, 50, 12, NOW, expected_held=12, releases=(live(10, minutes=11),), clears=(dead(5),),
                     adds=live(3))  # fmt: skip
    after = after_draw(stale, draw)
    assert (after.remaining, after.used, after.held_total) == (draw.left, stale.used + 12, draw.held_after)
    assert after.holds == (live(10), live(-10, minutes=11))


def split_of(plan: UsagePlan) -> tuple[int, int]:
    return plan.commit.usage.free, plan.commit.usage.unbilled_overage
