"""Planning holds and settles (pure functions, no DynamoDB): availability with live and dead
entries, the hold plan, the settle plan, and the stop reasons including free_quota_held."""

from dataclasses import replace
from datetime import timedelta

import pytest

from tests.support import IMAGE, NO_TRIAL, START
from trial_ledger import ClaimMethod, StopReason, format_timestamp
from trial_ledger.config.catalog import default_catalog_document, parse_catalog
from trial_ledger.domain.planning.draws import MAX_CLEARS_PER_WRITE, Attempt
from trial_ledger.domain.planning.hold import CheckedHold, plan_hold
from trial_ledger.domain.planning.usage import CheckedUsage, UsagePlan, plan_usage
from trial_ledger.domain.state import GrantState, HeldEntry, ProfileState
from trial_ledger.results import FundingSource

CATALOG = parse_catalog(default_catalog_document())
NOW = format_timestamp(START)
LATER = format_timestamp(START + timedelta(minutes=10))
EARLIER = format_timestamp(START - timedelta(seconds=1))
OFF = ProfileState("a", NOW, postpaid_enabled=False)
ON = ProfileState("a", NOW, postpaid_enabled=True)


def grant(remaining: int = 50, *holds: HeldEntry, model_id: str = IMAGE) -> GrantState:
    quota = CATALOG[model_id].trial.quota  # type: ignore[union-attr]
    return GrantState("a", model_id, CATALOG[model_id].unit, quota, quota - remaining, remaining, 0,
                      ClaimMethod.AUTO, "2026-03-01T00:00:00.000Z", "2026-05-30T00:00:00.000Z", holds)  # fmt: skip


def live(rid: str, units: int) -> HeldEntry:
    return HeldEntry(rid, units, LATER)


def dead(rid: str, units: int) -> HeldEntry:
    return HeldEntry(rid, units, NOW)  # reserves until NOW, exclusive: nothing at NOW


def attempt(relaxed: bool = False, campaign_open: bool = True) -> Attempt:
    return Attempt(now=START, campaign_open=campaign_open, relaxed=relaxed, write_id="w-1")


def hold_request(estimate: int, model_id: str = IMAGE, ttl: int = 900) -> CheckedHold:
    return CheckedHold(CATALOG[model_id], "a", "h1", estimate, None, ttl, "f")


def usage_request(quantity: int, request_id: str = "h1") -> CheckedUsage:
    return CheckedUsage(CATALOG[IMAGE], "a", quantity, request_id, None, "f")


def test_availability_counts_live_entries_of_others_only() -> None:
    state = grant(50, live("x", 10), dead("y", 20), live("h1", 5))
    assert (state.held(NOW), state.available(NOW), state.available(NOW, except_request="h1")) == (15, 35, 40)
    assert (state.held_total, state.unreserved) == (35, 15)
    assert state.available(EARLIER) == 15  # before y's timeout it reserved too
    assert state.available("2026-05-30T00:00:00.000Z") == 0  # the grant's expiry ends everything


def test_a_hold_reserves_what_is_available_and_clears_dead_entries() -> None:
    plan = plan_hold(hold_request(40), grant(50, live("x", 10), dead("y", 20)), OFF, attempt())
    assert plan.commit is not None
    draw = plan.commit.draw
    assert draw is not None
    assert (draw.exact, draw.free, draw.expected_remaining, draw.expected_held) == (True, 0, 50, 30)
    assert draw.clears == (dead("y", 20),)
    assert draw.adds == HeldEntry("h1", 40, format_timestamp(START + timedelta(seconds=900)))
    assert (plan.commit.hold.held, plan.commit.hold.free_available, plan.commit.hold.source) == (
        40, 0, FundingSource.FREE)  # fmt: skip
    assert draw.held_after == 50  # x 10 + h1 40; y removed


def test_a_hold_is_capped_by_the_grants_expiry() -> None:
    near_end = replace(grant(50), expires_at=format_timestamp(START + timedelta(seconds=100)))
    plan = plan_hold(hold_request(5, ttl=3600), near_end, OFF, attempt())
    assert plan.commit is not None
    assert plan.commit.hold.expires_at == near_end.expires_at


def test_partial_hold_and_the_stop_reasons() -> None:
    partial = plan_hold(hold_request(40), grant(50, live("x", 30)), OFF, attempt())
    assert partial.commit is not None
    assert (partial.commit.hold.held, partial.commit.hold.free_available) == (20, 0)
    held = plan_hold(hold_request(1), grant(50, live("x", 50)), OFF, attempt())
    assert (held.commit, held.refusal) == (None, StopReason.HELD)
    exhausted = plan_hold(hold_request(1), grant(0), OFF, attempt())
    assert exhausted.refusal is StopReason.EXHAUSTED
    no_trial = plan_hold(hold_request(1, model_id=NO_TRIAL), None, OFF, attempt())
    assert no_trial.refusal is StopReason.NO_FREE_QUOTA
    closed = plan_hold(hold_request(1), None, OFF, attempt(campaign_open=False))
    assert closed.refusal is StopReason.NO_FREE_QUOTA


def test_with_postpaid_nothing_available_is_a_hold_of_zero() -> None:
    plan = plan_hold(hold_request(10), grant(50, live("x", 50)), ON, attempt())
    assert plan.commit is not None
    assert (plan.commit.hold.held, plan.commit.hold.source, plan.commit.draw) == (0, FundingSource.POSTPAID, None)
    assert plan.commit.expect_postpaid is True


def test_the_first_hold_claims_the_trial_with_its_entry() -> None:
    plan = plan_hold(hold_request(60), None, OFF, attempt())
    assert plan.commit is not None
    assert plan.commit.new_grant is not None
    assert plan.commit.new_grant.state.holds == (HeldEntry("h1", 50, format_timestamp(START + timedelta(seconds=900))),)
    assert (plan.commit.hold.held, plan.commit.hold.free_available, plan.commit.hold.auto_claimed) == (50, 0, True)


def test_a_relaxed_hold_only_when_unreserved_covers_it() -> None:
    covered = plan_hold(hold_request(10), grant(50, live("x", 30)), OFF, attempt(relaxed=True))
    assert covered.commit is not None
    assert covered.commit.draw is not None
    assert (covered.commit.draw.exact, covered.commit.hold.free_available) == (False, None)
    partial = plan_hold(hold_request(30), grant(50, live("x", 30)), OFF, attempt(relaxed=True))
    assert partial.commit is not None
    assert partial.commit.draw is not None
    assert partial.commit.draw.exact is True  # 20 of 30: depends on the exact state


@pytest.mark.parametrize(("quantity", "free", "overage"), [(4, 4, 0), (10, 10, 0), (25, 25, 0), (60, 40, 20)])
def test_a_settle_takes_its_hold_first_then_what_others_leave(quantity: int, free: int, overage: int) -> None:
    plan = plan_usage(usage_request(quantity), grant(50, live("h1", 10), live("x", 10)), OFF, attempt())
    usage, draw = plan.commit.usage, plan.commit.draw
    assert draw is not None
    assert (usage.free, usage.unbilled_overage, usage.free_remaining) == (free, overage, 40 - free)
    assert (draw.settles, plan.commit.settles_hold) == ((live("h1", 10),), "h1")
    assert draw.held_after == 10


def test_a_settle_within_its_hold_may_relax_even_when_nothing_else_is_free() -> None:
    plan = plan_usage(usage_request(10), grant(10, live("h1", 10)), OFF, attempt(relaxed=True))
    assert plan.commit.draw is not None
    assert (plan.commit.draw.exact, plan.commit.usage.free) == (False, 10)


def test_plain_usage_draws_around_live_holds_and_clears_its_own_dead_entry() -> None:
    plan = plan_usage(usage_request(30, "plain"), grant(50, live("x", 40)), OFF, attempt())
    assert split_of(plan) == (10, 20)
    assert plan.commit.settles_hold is None
    late = plan_usage(usage_request(30), grant(50, dead("h1", 40)), OFF, attempt(relaxed=True))
    assert late.commit.draw is not None
    assert (late.commit.draw.exact, late.commit.draw.clears, late.commit.draw.settles) == (
        True,
        (dead("h1", 40),),
        (),
    )
    assert split_of(late) == (30, 0)


def test_dead_entries_beyond_the_cap_stay_reserved() -> None:
    entries = [dead(f"d{index:02d}", 1) for index in range(MAX_CLEARS_PER_WRITE + 5)]
    plan = plan_usage(usage_request(50, "plain"), grant(50, *entries), OFF, attempt())
    assert plan.commit.draw is not None
    assert len(plan.commit.draw.clears) == MAX_CLEARS_PER_WRITE
    assert split_of(plan) == (45, 5)


def split_of(plan: UsagePlan) -> tuple[int, int]:
    return plan.commit.usage.free, plan.commit.usage.unbilled_overage
