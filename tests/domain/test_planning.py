"""Planning one usage (a pure function): free first (R6), the split, the draw and the conditions
that make its commit fail when the grant or the postpaid switch moved (no DynamoDB here)."""

from dataclasses import replace
from datetime import timedelta

import pytest

from tests.support import IMAGE, LANG_90, MILLION, NO_TRIAL, START
from trial_ledger import ClaimMethod, format_timestamp
from trial_ledger.config.catalog import default_catalog_document, parse_catalog
from trial_ledger.domain.planning.draws import Attempt
from trial_ledger.domain.planning.usage import CheckedUsage, UsagePlan, plan_usage
from trial_ledger.domain.state import GrantState, HeldPeriod, LedgerStamp, ProfileState, UsageRecord
from trial_ledger.domain.writes import GrantDraw

CATALOG = parse_catalog(default_catalog_document())
NOW = format_timestamp(START)
OFF = ProfileState("a", NOW, postpaid_enabled=False)
ON = ProfileState("a", NOW, postpaid_enabled=True)


def request(model_id: str = LANG_90, quantity: int = 100, sub_account_id: str | None = None) -> CheckedUsage:
    return CheckedUsage(CATALOG[model_id], "a", quantity, "r1", sub_account_id, fingerprint="f-1")


def attempt(campaign_open: bool = True, relaxed: bool = False) -> Attempt:
    return Attempt(now=START, campaign_open=campaign_open, relaxed=relaxed, write_id="w-1")


def grant(
    model_id: str = LANG_90, remaining: int = MILLION, expires_at: str = "2026-05-30T08:00:00.000Z"
) -> GrantState:
    quota = CATALOG[model_id].trial.quota  # type: ignore[union-attr]
    return GrantState("a", model_id, CATALOG[model_id].unit, quota, quota - remaining, remaining, 0,
                      ClaimMethod.MANUAL, "2026-03-01T00:00:00.000Z", expires_at)  # fmt: skip


def held_until(grant: GrantState, *periods: tuple[int, int]) -> GrantState:
    """``grant`` with hold periods of ``units`` ending ``minutes`` from now (negative: timed out)."""
    return replace(grant, holds=tuple(HeldPeriod(format_timestamp(START + timedelta(minutes=minutes)), units)
                                      for minutes, units in periods))  # fmt: skip


def split(plan: UsagePlan) -> tuple[int, int, int]:
    usage = plan.commit.usage
    return usage.free, usage.billable, usage.unbilled_overage


def test_free_quota_covers_the_whole_usage() -> None:
    plan = plan_usage(request(quantity=100), grant(), OFF, attempt())
    assert split(plan) == (100, 0, 0)
    assert plan.commit.draw == GrantDraw(LANG_90, MILLION, 100, NOW, exact=True, entries=1, expected_entries=1)
    assert plan.commit.expect_postpaid is None  # all free: the switch does not matter
    assert (plan.commit.new_grant, plan.commit.expect_no_grant) == (None, False)
    assert plan.grant_after == replace(grant(), used=100, remaining=MILLION - 100, entries=2)
    assert plan.commit.usage.entry == LedgerStamp(2, 100, MILLION - 100, 0)  # R19: the claim is entry 1
    usage = plan.commit.usage
    assert (usage.free_remaining, usage.charge, usage.unit_price) == (MILLION - 100, "0", "0.0000024")
    assert usage.currency == "CNY"
    assert (usage.recorded_at, usage.write_id, usage.fingerprint, usage.auto_claimed) == (NOW, "w-1", "f-1", False)


def test_the_record_is_the_request_as_metered() -> None:
    plan = plan_usage(request(IMAGE, quantity=53, sub_account_id="key-1"), grant(IMAGE, remaining=30), ON, attempt())
    assert plan.commit.usage == UsageRecord(
        request_id="r1", account_id="a", model_id=IMAGE, sub_account_id="key-1", quantity=53, free=30, billable=23,
        unbilled_overage=0, currency="CNY", unit_price="0.2", charge="4.6", free_remaining=0, auto_claimed=False,
        recorded_at=NOW, fingerprint="f-1", write_id="w-1", entry=LedgerStamp(2, 50, 0, 0))  # fmt: skip


def test_partial_free_without_postpaid_is_unbilled_overage() -> None:
    plan = plan_usage(request(IMAGE, quantity=50), grant(IMAGE, remaining=30), OFF, attempt())
    assert split(plan) == (30, 0, 20)
    assert plan.commit.usage.charge == "0"
    assert plan.commit.draw == GrantDraw(IMAGE, 30, 30, NOW, exact=True, entries=1)
    assert plan.commit.expect_postpaid is False
    assert plan.commit.usage.free_remaining == 0


def test_partial_free_with_postpaid_is_billed_exactly() -> None:
    plan = plan_usage(request(IMAGE, quantity=50), grant(IMAGE, remaining=30), ON, attempt())
    assert split(plan) == (30, 20, 0)
    assert plan.commit.usage.charge == "4"  # 20 images x 0.2
    assert plan.commit.expect_postpaid is True


def test_an_expired_grant_gives_nothing_free() -> None:
    expired = grant(expires_at=NOW)  # R5: unusable from expires_at on
    plan = plan_usage(request(quantity=100), expired, OFF, attempt())
    assert split(plan) == (0, 0, 100)
    assert plan.commit.draw is None
    assert plan.grant_after == expired
    assert plan.commit.usage.free_remaining == 0
    assert plan.commit.expect_postpaid is False


def test_an_exhausted_grant_gives_nothing_free() -> None:
    plan = plan_usage(request(IMAGE, quantity=3), grant(IMAGE, remaining=0), ON, attempt())
    assert split(plan) == (0, 3, 0)
    assert plan.commit.usage.charge == "0.6"
    assert (plan.commit.draw, plan.commit.usage.free_remaining, plan.commit.expect_postpaid) == (None, 0, True)


@pytest.mark.parametrize("profile", [OFF, ON])
def test_a_model_without_trial_is_never_free(profile: ProfileState) -> None:
    plan = plan_usage(request(NO_TRIAL, quantity=10), None, profile, attempt())
    expected = (0, 10, 0) if profile.postpaid_enabled else (0, 0, 10)
    assert split(plan) == expected
    assert (plan.commit.draw, plan.commit.new_grant, plan.grant_after) == (None, None, None)
    assert plan.commit.expect_no_grant is False  # no trial: a grant cannot appear
    assert plan.commit.expect_postpaid is profile.postpaid_enabled
    assert plan.commit.usage.free_remaining == 0


def test_first_use_claims_the_trial_already_drawn() -> None:
    plan = plan_usage(request(IMAGE, quantity=53, sub_account_id="key-1"), None, OFF, attempt())
    assert split(plan) == (50, 0, 3)
    new = plan.commit.new_grant
    assert new is not None
    assert new.state == GrantState("a", IMAGE, "images", 50, 50, 0, 0, ClaimMethod.AUTO, NOW,
                                   format_timestamp(START + timedelta(days=90)), entries=2)  # fmt: skip
    assert plan.commit.usage.entry == LedgerStamp(2, 50, 0, 0)  # after the claim, entry 1
    assert new.claimed_by == "key-1"
    assert plan.grant_after == new.state
    assert (plan.commit.draw, plan.commit.usage.auto_claimed, plan.commit.usage.free_remaining) == (None, True, 0)


def test_no_grant_after_the_campaign_closed_is_proven_absent() -> None:
    plan = plan_usage(request(LANG_90, quantity=10), None, OFF, attempt(campaign_open=False))
    assert split(plan) == (0, 0, 10)
    assert (plan.commit.new_grant, plan.commit.expect_no_grant) == (None, True)
    assert (plan.commit.draw, plan.grant_after, plan.commit.usage.free_remaining) == (None, None, 0)


@pytest.mark.parametrize("relaxed", [False, True])
def test_nothing_free_beside_live_holds_is_proven_by_an_exact_draw_of_nothing(relaxed: bool) -> None:
    """That other requests' holds reserve the whole remainder is a belief about holds, which a
    stale snapshot gets wrong: the usage is written with an exact draw of 0 units, so that the
    grant proves it or refuses (docs/ledger.md, "Why holds stay exact"), under contention too."""
    reserved = held_until(grant(IMAGE, remaining=30), (10, 20), (11, 10))
    plan = plan_usage(request(IMAGE, quantity=10), reserved, ON, attempt(relaxed=relaxed))
    assert split(plan) == (0, 10, 0)
    assert plan.commit.draw == GrantDraw(IMAGE, 30, 0, NOW, exact=True, expected_held=30)
    assert plan.grant_after == reserved
    assert plan.commit.usage.free_remaining == 0


def test_a_relaxed_draw_the_remainder_covers_leaves_the_remainder_open() -> None:
    plan = plan_usage(request(quantity=100), grant(), OFF, attempt(relaxed=True))
    assert plan.commit.draw == GrantDraw(LANG_90, MILLION, 100, NOW, exact=False, entries=1)
    assert plan.commit.usage.free_remaining is None  # settled after the commit
    assert split(plan) == (100, 0, 0)


def test_a_relaxed_draw_leaves_timed_out_periods_to_an_exact_write() -> None:
    """A relaxed draw's condition is ``unreserved`` alone: it names no period, and the dead ones
    (which ``unreserved`` still counts as reserved) stay until an exact write removes them."""
    with_dead = held_until(grant(), (-2, 7), (-1, 5))  # soonest first, as stored
    plan = plan_usage(request(quantity=100), with_dead, OFF, attempt(relaxed=True))
    assert plan.commit.draw == GrantDraw(LANG_90, MILLION, 100, NOW, exact=False, expected_held=12, entries=1)
    exact = plan_usage(request(quantity=100), with_dead, OFF, attempt())
    assert exact.commit.draw is not None
    assert exact.commit.draw.clears == with_dead.holds


@pytest.mark.parametrize(("held", "quantity", "exact"), [(8, 1, False), (8, 2, True), (8, 3, True), (9, 1, True)])
def test_a_relaxed_draw_must_leave_some_of_what_no_hold_reserves(held: int, quantity: int, exact: bool) -> None:
    """Relaxed, a draw is refused only if ``unreserved`` no longer covers it; taking all of it
    may empty what is free, so that draw stays exact (as one that may empty the grant does)."""
    plan = plan_usage(request(IMAGE, quantity=quantity), held_until(grant(IMAGE, 10), (10, held)), OFF,
                      attempt(relaxed=True))  # fmt: skip
    assert plan.commit.draw is not None
    assert (plan.commit.draw.exact, plan.commit.usage.free) == (exact, min(quantity, 10 - held))


@pytest.mark.parametrize(("remaining", "quantity"), [(30, 50), (30, 30)])
def test_a_draw_that_empties_the_grant_stays_exact_even_relaxed(remaining: int, quantity: int) -> None:
    plan = plan_usage(request(IMAGE, quantity=quantity), grant(IMAGE, remaining=remaining), OFF, attempt(relaxed=True))
    assert plan.commit.draw == GrantDraw(IMAGE, remaining, remaining, NOW, exact=True, entries=1)
    assert plan.commit.draw.left == 0
    assert plan.commit.usage.free_remaining == 0
    assert plan.grant_after == replace(grant(IMAGE, remaining=remaining), used=50, remaining=0, entries=2)


def test_planning_is_pure() -> None:
    arguments = (request(IMAGE, quantity=7), grant(IMAGE, remaining=30), ON, attempt())
    assert plan_usage(*arguments) == plan_usage(*arguments)
