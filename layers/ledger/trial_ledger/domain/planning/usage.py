"""Plans one usage from what is known of its grant and profile: the draw, the split, the record."""

from __future__ import annotations

from dataclasses import dataclass, replace

from ...clock import format_timestamp
from ...config.catalog import ModelSpec
from ...results import ClaimMethod, HoldStatus
from ..rules import Split, charge_for, format_money, new_grant, split_usage
from ..state import GrantState, HeldPeriod, HoldRecord, ProfileState, UsageRecord
from ..writes import CallWrite, GrantDraw, NewGrant, UsageCommit
from .draws import Attempt, after_draw, dead_to_clear


@dataclass(frozen=True, slots=True)
class CheckedUsage:
    """One invocation to record, as the gateway reported it, checked against the rules and the catalog."""

    model: ModelSpec
    account_id: str
    quantity: int
    request_id: str
    sub_account_id: str | None
    fingerprint: str


@dataclass(frozen=True, slots=True)
class UsagePlan:
    commit: UsageCommit
    grant_after: GrantState | None
    """The grant as the commit leaves it (its remainder unknown to a relaxed draw)."""


@dataclass(frozen=True, slots=True)
class _FreeUnits:
    free: int
    grant_after: GrantState | None
    draw: GrantDraw | None = None
    new_grant: NewGrant | None = None
    expect_no_grant: bool = False


def plan_usage(
    request: CheckedUsage,
    grant: GrantState | None,
    profile: ProfileState,
    attempt: Attempt,
    hold: HoldRecord | None = None,
) -> UsagePlan:
    """Free first (R6) from ``grant`` (or from the trial claimed on first use, R3), the rest
    billable or unbilled overage by ``profile``'s postpaid switch; with the conditions that make
    the commit fail if the grant, the switch or the request's item are no longer what this plan
    assumed. ``hold`` is the request's hold, when its item holds one (of this account and model):
    live, the usage settles it (R14); ended, the usage is plain usage on the same item."""
    now = format_timestamp(attempt.now)
    live = hold is not None and hold.effective_status(now) is HoldStatus.OPEN
    # A hold that was live when an operator voided its grant ended then (R18): its units went
    # with the void's remainder, and the usage is plain usage on its item.
    voided = live and hold is not None and grant is not None and grant.voided_hold(hold)
    settles = live and not voided
    own = hold if hold is not None and hold.reserves(now) and not voided else None
    free_units = _free_units(request, grant, attempt, own, profile.balance_low_percent)
    split = split_usage(request.quantity, free_units.free, profile.postpaid_enabled)
    commit = UsageCommit(
        call=CallWrite(_record(request, split, free_units, now, attempt.write_id), hold, settles, voided),
        draw=free_units.draw,
        new_grant=free_units.new_grant,
        expect_no_grant=free_units.expect_no_grant,
        expect_postpaid=profile.postpaid_enabled if split.free < request.quantity else None,
        expect_revivals=profile.revivals,
    )
    return UsagePlan(commit, free_units.grant_after)


def _record(request: CheckedUsage, split: Split, free_units: _FreeUnits, now: str, write_id: str) -> UsageRecord:
    after = free_units.grant_after
    relaxed_draw = free_units.draw is not None and not free_units.draw.exact
    price = request.model.price
    return UsageRecord(
        request_id=request.request_id,
        account_id=request.account_id,
        model_id=request.model.model_id,
        sub_account_id=request.sub_account_id,
        quantity=request.quantity,
        free=split.free,
        billable=split.billable,
        unbilled_overage=split.unbilled_overage,
        currency=price.currency,
        unit_price=format_money(price.unit_price),
        charge=format_money(charge_for(split.billable, price.unit_price)),
        # A relaxed draw does not know the remainder it leaves: settled after the commit.
        free_remaining=None if relaxed_draw else (after.available(now) if after else 0),
        auto_claimed=free_units.new_grant is not None,
        recorded_at=now,
        fingerprint=request.fingerprint,
        write_id=write_id,
        entry=after.stamp() if split.free and after else None,
    )


def _free_units(
    request: CheckedUsage,
    grant: GrantState | None,
    attempt: Attempt,
    own: HoldRecord | None,
    alert_thresholds: tuple[int, ...] | None,
) -> _FreeUnits:
    if grant is not None:
        return _draw(request, grant, attempt.relaxed, format_timestamp(attempt.now), own)
    if request.model.trial is not None and attempt.campaign_open:
        fresh = new_grant(request.account_id, request.model, ClaimMethod.AUTO, attempt.now, alert_thresholds)
        free = min(request.quantity, fresh.remaining)
        claimed = replace(fresh, used=free, remaining=fresh.remaining - free, entries=fresh.entries + 1)
        return _FreeUnits(free, claimed, new_grant=NewGrant(claimed, request.sub_account_id))
    # A trial model without a grant once the campaign closed: nothing is free, as long as no
    # grant appears meanwhile (a claim that was just in time), which the commit checks.
    return _FreeUnits(0, None, expect_no_grant=request.model.trial is not None)


def _draw(request: CheckedUsage, grant: GrantState, relaxed: bool, now: str, own: HoldRecord | None) -> _FreeUnits:
    """Its own live hold's units first, then what no live hold reserves (R14)."""
    own_units = own.held if own is not None else 0
    clears, still_dead = dead_to_clear(grant, now)
    free = min(request.quantity, own_units + max(grant.available(now) - still_dead, 0))
    if not free and grant.usable_remaining(now) == 0:
        # Exhausted or past expiry: nothing to write to the grant. A reversal may give units back
        # to an exhausted grant (R17); the profile check's ``revivals`` proves none did meanwhile.
        return _FreeUnits(0, grant)
    # Nothing free while a remainder is left means other requests' holds reserve all of it: a
    # belief about holds, which a stale snapshot gets wrong (a hold released or taken elsewhere).
    # It is written as an exact draw of 0 units, so that the grant proves it or refuses.
    # Under contention a draw that its hold and ``unreserved`` fully cover stops insisting on the
    # exact remainder and holds (which others keep changing); a draw that may empty the grant
    # stays exact (see docs/ledger.md).
    taken = free - own_units
    covered = taken <= 0 or taken < grant.unreserved
    exact = not (relaxed and free == request.quantity and covered)
    releases = (HeldPeriod(own.period, own_units),) if own is not None else ()
    draw = GrantDraw(request.model.model_id, grant.remaining, free, now, exact=exact,
                     expected_held=grant.held_total, releases=releases, clears=clears if exact else (),
                     entries=int(free > 0), expected_entries=grant.entries)  # fmt: skip
    return _FreeUnits(free, after_draw(grant, draw), draw=draw)
