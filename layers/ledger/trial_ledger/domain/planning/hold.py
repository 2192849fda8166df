"""Plans one hold from what is known of its grant and profile: the reservation and its record (R13)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from ...clock import format_timestamp
from ...config.catalog import ModelSpec
from ...results import ClaimMethod, FundingSource, HoldStatus, StopReason
from ..hold_periods import hold_expiry
from ..rules import new_grant, stop_reason
from ..state import GrantState, HeldPeriod, HoldRecord, ProfileState
from ..writes import GrantDraw, HoldCommit, NewGrant
from .draws import Attempt, after_draw, dead_to_clear


@dataclass(frozen=True, slots=True)
class CheckedHold:
    """One hold to take, as the gateway asked for it, checked against the rules and the catalog."""

    model: ModelSpec
    account_id: str
    request_id: str
    estimate: int
    sub_account_id: str | None
    ttl_seconds: int
    fingerprint: str


@dataclass(frozen=True, slots=True)
class HoldPlan:
    commit: HoldCommit | None
    """None when the hold is refused (``refusal`` says why)."""
    refusal: StopReason | None
    grant_after: GrantState | None


def plan_hold(request: CheckedHold, grant: GrantState | None, profile: ProfileState, attempt: Attempt) -> HoldPlan:
    """Reserve ``min(estimate, available)`` (claiming the trial on first use, R3) in the period its
    ``expires_at`` rounds up to (R13a); with nothing available, a hold of 0 units funded by
    postpaid, or the stop reason (R7, ``free_quota_held``)."""
    now = format_timestamp(attempt.now)
    if grant is None and request.model.trial is not None and attempt.campaign_open:
        return _first_hold(request, attempt, profile.balance_low_percent)
    clears, still_dead = dead_to_clear(grant, now) if grant else ((), 0)
    available = max(grant.available(now) - still_dead, 0) if grant else 0
    if available == 0:
        if not profile.postpaid_enabled:
            reason = stop_reason(request.model, grant, now, attempt.campaign_open) or StopReason.EXHAUSTED
            return HoldPlan(None, reason, grant)
        # A hold of 0 units reserves nothing: no grant's validity cuts it short.
        expires_at = hold_expiry(attempt.now, request.ttl_seconds, None)
        record = replace(_record(request, attempt, 0, expires_at), free_available=0)
        return HoldPlan(HoldCommit(record, expect_postpaid=True, expect_revivals=profile.revivals), None, grant)
    assert grant is not None
    held = min(request.estimate, available)
    record = _record(request, attempt, held, hold_expiry(attempt.now, request.ttl_seconds, grant.expires_at))
    adds = HeldPeriod(record.period, held)
    # Under contention a hold that ``unreserved`` fully covers no longer insists on the exact
    # remainder and holds; it cannot reserve what another hold or a draw took (see docs/ledger.md).
    # A hold that opens a new period clears timed-out ones either way: the periods stay bounded.
    exact = not (attempt.relaxed and held == request.estimate and held <= grant.unreserved)
    clearing = exact or grant.period(adds.until) is None
    draw = GrantDraw(request.model.model_id, grant.remaining, 0, now, exact=exact, expected_held=grant.held_total,
                     clears=clears if clearing else (), adds=adds)  # fmt: skip
    record = replace(record, free_available=available - held if exact else None)
    return HoldPlan(HoldCommit(record, draw=draw), None, after_draw(grant, draw))


def _first_hold(request: CheckedHold, attempt: Attempt, alert_thresholds: tuple[int, ...] | None) -> HoldPlan:
    """The first use of a trial model claims it with the hold's period already in it (and the
    account's alert thresholds, R20)."""
    fresh = new_grant(request.account_id, request.model, ClaimMethod.AUTO, attempt.now, alert_thresholds)
    held = min(request.estimate, fresh.remaining)
    record = _record(request, attempt, held, hold_expiry(attempt.now, request.ttl_seconds, fresh.expires_at))
    claimed = replace(fresh, holds=(HeldPeriod(record.period, held),))
    record = replace(record, free_available=fresh.remaining - held, auto_claimed=True)
    commit = HoldCommit(record, new_grant=NewGrant(claimed, request.sub_account_id))
    return HoldPlan(commit, None, claimed)


def _record(request: CheckedHold, attempt: Attempt, held: int, expires_at: str) -> HoldRecord:
    """The hold's item: free units held, or 0 funded by postpaid; ``free_available`` set by the caller."""
    return HoldRecord(
        request_id=request.request_id,
        account_id=request.account_id,
        model_id=request.model.model_id,
        sub_account_id=request.sub_account_id,
        estimate=request.estimate,
        held=held,
        source=FundingSource.FREE if held else FundingSource.POSTPAID,
        free_available=None,
        auto_claimed=False,
        created_at=format_timestamp(attempt.now),
        expires_at=expires_at,
        ttl_seconds=request.ttl_seconds,
        status=HoldStatus.OPEN,
        closed_at=None,
        fingerprint=request.fingerprint,
        write_id=attempt.write_id,
    )
