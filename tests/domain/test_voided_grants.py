"""A voided grant (R18), pure: it reads ``voided`` and stops with ``free_quota_voided`` whatever its
validity says, nothing of it is usable or held any more, and a hold that was live and holding units
when it was voided ended then: a usage on its item is plain usage, not a settle."""

from dataclasses import replace
from datetime import timedelta

import pytest

from tests.support import IMAGE, START
from trial_ledger import ClaimMethod, GrantStatus, HoldStatus, StopReason, format_timestamp
from trial_ledger.config.catalog import default_catalog_document, parse_catalog
from trial_ledger.domain.planning.draws import Attempt
from trial_ledger.domain.planning.usage import CheckedUsage, plan_usage
from trial_ledger.domain.rules import effective_grant, stop_reason
from trial_ledger.domain.state import GrantState, HeldPeriod, HoldRecord, ProfileState
from trial_ledger.results import FundingSource

CATALOG = parse_catalog(default_catalog_document())
NOW = format_timestamp(START)
EXPIRES = "2026-05-30T00:00:00.000Z"
VOIDED = format_timestamp(START - timedelta(minutes=2))
HOLD_ENDS = format_timestamp(START + timedelta(minutes=10))
OFF = ProfileState("a", NOW, postpaid_enabled=False)
ON = ProfileState("a", NOW, postpaid_enabled=True)
MS = timedelta(milliseconds=1)


def voided_grant(voided_at: str | None = VOIDED) -> GrantState:
    """Voided at VOIDED: its remainder of 50 recorded as expired, the live period of 20 still stored."""
    return GrantState("a", IMAGE, "images", 1000, 950, 0, 50, ClaimMethod.AUTO, "2026-03-01T00:00:00.000Z", EXPIRES,
                      (HeldPeriod(HOLD_ENDS, 20),), entries=7, voided_at=voided_at)  # fmt: skip


def hold(held: int = 20, created_at: str = format_timestamp(START - timedelta(minutes=5)),
         expires_at: str = HOLD_ENDS) -> HoldRecord:  # fmt: skip
    return HoldRecord("h1", "a", IMAGE, None, held, held, FundingSource.FREE if held else FundingSource.POSTPAID, 20,
                      False, created_at, expires_at, 900, HoldStatus.OPEN, None, "f", "w-0")  # fmt: skip


def test_a_voided_grant_reads_voided_and_stops_with_free_quota_voided() -> None:
    grant = voided_grant()
    view = effective_grant(grant, NOW)
    assert (view.status, view.used, view.remaining, view.expired, view.held) == (GrantStatus.VOIDED, 950, 0, 50, 0)
    assert stop_reason(CATALOG[IMAGE], grant, NOW, campaign_open=True) is StopReason.VOIDED
    past_its_validity = "2026-06-01T00:00:00.000Z"  # voided first: never reads expired
    assert effective_grant(grant, past_its_validity).status is GrantStatus.VOIDED
    assert stop_reason(CATALOG[IMAGE], grant, past_its_validity, campaign_open=True) is StopReason.VOIDED


def test_a_void_ends_the_units_live_holds_reserve_and_nothing_of_the_grant_is_usable() -> None:
    grant = voided_grant()
    assert grant.held_total == 20  # still stored until a write removes the period
    assert (grant.held(NOW), grant.available(NOW), grant.usable_remaining(NOW), grant.is_usable(NOW)) == (
        0, 0, 0, False)  # fmt: skip
    with_a_remainder = replace(grant, remaining=70, used=880)  # even a remainder would not be usable
    assert (with_a_remainder.usable_remaining(NOW), with_a_remainder.available(NOW)) == (0, 0)
    unvoided = replace(with_a_remainder, voided_at=None)
    assert (unvoided.held(NOW), unvoided.usable_remaining(NOW), unvoided.is_usable(NOW)) == (20, 70, True)


@pytest.mark.parametrize(
    ("held", "created_at", "expires_at", "ended_voided"),
    [
        (20, format_timestamp(START - timedelta(minutes=5)), HOLD_ENDS, True),
        (1, VOIDED, format_timestamp(START - timedelta(minutes=2) + MS), True),  # taken at the void's instant
        (20, format_timestamp(START - timedelta(minutes=2) + MS), HOLD_ENDS, False),  # taken after the void
        (20, format_timestamp(START - timedelta(minutes=20)), VOIDED, False),  # timed out at the void's instant
        (0, format_timestamp(START - timedelta(minutes=5)), HOLD_ENDS, False),  # held nothing: reserved nothing
    ],
)
def test_a_hold_ended_voided_only_when_it_held_units_and_was_live_when_the_grant_was_voided(
    held: int, created_at: str, expires_at: str, ended_voided: bool
) -> None:
    assert voided_grant().voided_hold(hold(held, created_at, expires_at)) is ended_voided
    assert voided_grant(None).voided_hold(hold(held, created_at, expires_at)) is False  # no void, no voided hold


def usage(quantity: int = 30) -> CheckedUsage:
    return CheckedUsage(CATALOG[IMAGE], "a", quantity, "h1", None, "f")


def attempt() -> Attempt:
    return Attempt(now=START, campaign_open=True, relaxed=False, write_id="w-1")


@pytest.mark.parametrize(("profile", "billable", "overage"), [(OFF, 0, 30), (ON, 30, 0)])
def test_a_usage_on_the_item_of_a_hold_its_grants_void_ended_is_plain_usage_on_that_item(
    profile: ProfileState, billable: int, overage: int
) -> None:
    ended = hold()
    plan = plan_usage(usage(), voided_grant(), profile, attempt(), ended)
    call = plan.commit.call
    assert (call.hold, call.settles, call.voided) == (ended, False, True)
    assert (call.usage.free, call.usage.billable, call.usage.unbilled_overage) == (0, billable, overage)
    assert (plan.commit.draw, call.usage.entry) == (None, None)  # its units went with the void's remainder


def test_a_hold_taken_after_the_void_is_settled_by_its_usage() -> None:
    postpaid = hold(0, created_at=format_timestamp(START - timedelta(minutes=1)))
    plan = plan_usage(usage(), voided_grant(), ON, attempt(), postpaid)
    assert (plan.commit.call.settles, plan.commit.call.voided) == (True, False)
    assert plan.commit.usage.billable == 30


def test_a_usage_on_a_hold_that_has_timed_out_since_leaves_how_it_ended_to_the_sweep() -> None:
    timed_out = hold(expires_at=format_timestamp(START - timedelta(minutes=1)))  # live at the void, ended now
    plan = plan_usage(usage(), voided_grant(), OFF, attempt(), timed_out)
    assert (plan.commit.call.hold, plan.commit.call.settles, plan.commit.call.voided) == (timed_out, False, False)
