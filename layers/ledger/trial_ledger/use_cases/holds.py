"""Holds: reserve free units before a call (R13) and release them without usage (R15)."""

from __future__ import annotations

import uuid
from dataclasses import replace

from ..domain.planning.draws import Attempt, after_draw
from ..domain.planning.hold import CheckedHold, HoldPlan, plan_hold
from ..domain.refusals import CallTaken, Contended, GrantMoved, HoldEnded, Outdated
from ..domain.rules import hold_fingerprint, require_id, require_quantity
from ..domain.state import CallRecord, GrantState, HeldPeriod, HoldRecord
from ..domain.writes import GrantDraw, HoldClosing
from ..errors import AdmissionRefused, HoldNotFound, InvalidRequest, RequestIdConflict, TemporarilyUnavailable
from ..gateway_results import HoldAsk, HoldResult, ReleaseResult
from ..limits import HOLD_TTL_RANGE
from ..results import HoldStatus
from .contention import EXACT_TRIES_UNDER_CONTENTION, Known
from .context import LedgerContext


class Holds:
    def __init__(self, context: LedgerContext) -> None:
        self._context = context

    def hold(self, ask: HoldAsk) -> HoldResult:
        """Reserve ``min(estimate, available)`` free units for ``request_id`` (once per id)."""
        request = self._request(ask)
        seen = self._context.snapshots.grant(ask.account_id, ask.model_id)
        grant = seen if isinstance(seen, GrantState) else None
        known = Known(grant, seen is not None, self._context.snapshots.profile(ask.account_id))
        fresh = False
        for _ in self._context.backoff.tries():
            if known.profile is None or not known.grant_known:
                fresh = self._read(request, known)
            plan = self._plan(request, known)
            if not fresh and (plan.commit is None or plan.commit.hold.held == 0):
                # A refusal or a hold of 0 units is never answered from a snapshot: read once.
                fresh = self._read(request, known)
                plan = self._plan(request, known)
            if plan.commit is None:
                return self._refused(request, plan)
            try:
                self._context.store.commit_hold(plan.commit)
            except CallTaken as refusal:
                return self._taken(refusal.call, request, plan)
            except Outdated as refusal:
                known.learn(refusal)
            except Contended:
                pass
            else:
                self._context.snapshots.remember_hold(plan.commit.hold)
                return self._answer(plan.commit.hold, plan.grant_after, replayed=False)
        raise TemporarilyUnavailable("holds on this grant kept conflicting; retry with the same request_id")

    def release(self, request_id: str) -> ReleaseResult:
        """End a live hold without usage; or say how it had already ended (R15)."""
        hold = self._context.store.get_hold(require_id(request_id, "request_id"))
        if hold is None:
            raise HoldNotFound(request_id)
        now = self._context.now_text()
        closing = HoldClosing(request_id, hold.account_id, hold.model_id, hold.held, hold.expires_at,
                              HoldStatus.RELEASED.value, now)  # fmt: skip
        with_grant = closing.with_grant
        for _ in self._context.backoff.tries():
            if (status := hold.effective_status(now)) is not HoldStatus.OPEN:
                return ReleaseResult(request_id, self._how_it_ended(hold, status))
            try:
                self._context.store.close_hold(closing, with_grant=with_grant)
            except HoldEnded as ended:
                hold = ended.hold or self._context.store.get_hold(request_id) or hold
            except GrantMoved as moved:
                if moved.grant is None or not moved.grant.voided_hold(hold):
                    # Its period no longer holds it: the grant expired meanwhile, and the hold with it.
                    return ReleaseResult(request_id, HoldStatus.EXPIRED)
                # Its grant was voided while it was live (R18): it ended then; close its item so.
                closing, with_grant = replace(closing, status=HoldStatus.VOIDED.value), False
            except Contended:
                pass
            else:
                self._forget(hold, now)
                return ReleaseResult(request_id, HoldStatus(closing.status))
        raise TemporarilyUnavailable("releasing this hold kept conflicting; retry")

    def _how_it_ended(self, hold: HoldRecord, status: HoldStatus) -> HoldStatus:
        """A timed-out hold whose item the sweep has not closed yet ended ``voided`` if its grant
        was voided while it was live (R18): one read of the grant tells."""
        if status is HoldStatus.EXPIRED and hold.status is HoldStatus.OPEN and hold.held > 0:
            _, grant = self._context.read_grant(hold.account_id, hold.model_id)
            if grant is not None and grant.voided_hold(hold):
                return HoldStatus.VOIDED
        return status

    def _forget(self, hold: HoldRecord, now: str) -> None:
        """The grant this container last saw, less the released units (still an expectation)."""
        self._context.snapshots.forget_hold(hold.request_id)
        seen = self._context.snapshots.grant(hold.account_id, hold.model_id)
        if isinstance(seen, GrantState) and hold.held > 0:
            returned = GrantDraw(hold.model_id, seen.remaining, 0, now, releases=(HeldPeriod(hold.period, hold.held),))
            self._context.snapshots.remember_grant(hold.account_id, hold.model_id, after_draw(seen, returned))

    def _request(self, ask: HoldAsk) -> CheckedHold:
        spec = self._context.model(ask.account_id, ask.model_id, ask.sub_account_id)
        require_quantity(ask.estimate, "estimate")
        require_id(ask.request_id, "request_id")
        ttl = self._context.hold_ttl_seconds if ask.ttl_seconds is None else ask.ttl_seconds
        if isinstance(ttl, bool) or not isinstance(ttl, int) or ttl not in HOLD_TTL_RANGE:
            raise InvalidRequest("ttl_seconds must be an integer from 30 to 3600", field="ttl_seconds")
        fingerprint = hold_fingerprint(ask.account_id, ask.model_id, ask.estimate, ask.sub_account_id, ttl)
        return CheckedHold(spec, ask.account_id, ask.request_id, ask.estimate, ask.sub_account_id, ttl, fingerprint)

    def _read(self, request: CheckedHold, known: Known) -> bool:
        known.profile, known.grant = self._context.read_grant(request.account_id, request.model.model_id)
        known.grant_known = True
        return True

    def _plan(self, request: CheckedHold, known: Known) -> HoldPlan:
        now = self._context.clock.now()
        relaxed = known.lost_races >= EXACT_TRIES_UNDER_CONTENTION
        attempt = Attempt(now, self._context.campaign_open(now), relaxed, uuid.uuid4().hex)
        assert known.profile is not None
        return plan_hold(request, known.grant, known.profile, attempt)

    def _refused(self, request: CheckedHold, plan: HoldPlan) -> HoldResult:
        """Nothing to hold and postpaid off: a replay still answers with its first hold."""
        if (existing := self._context.store.get_call(request.request_id)) is not None:
            return self._taken(existing, request, plan)
        assert plan.refusal is not None
        raise AdmissionRefused(plan.refusal.value, request.model.model_id)

    def _taken(self, call: CallRecord, request: CheckedHold, plan: HoldPlan) -> HoldResult:
        """The answer when the request_id names a call already: our hold (a lost response), a
        replay of its hold, or a conflict: another hold, or a call already metered (v3.2: its
        hold could never settle)."""
        hold = call.hold
        if hold is not None and plan.commit is not None and hold.write_id == plan.commit.hold.write_id:
            return self._answer(plan.commit.hold, plan.grant_after, replayed=False)
        if hold is None or hold.fingerprint != request.fingerprint:
            raise RequestIdConflict(request.request_id) from None
        return self._answer(hold, None, replayed=True)

    def _answer(self, hold: HoldRecord, grant_after: GrantState | None, replayed: bool) -> HoldResult:
        """The result of a hold; settles ``free_available`` if a relaxed hold left it open."""
        if hold.free_available is not None:
            if grant_after is not None:
                self._context.snapshots.remember_grant(hold.account_id, hold.model_id, grant_after)
            return hold.result(replayed)
        _, grant = self._context.read_grant(hold.account_id, hold.model_id)
        available = grant.available(self._context.now_text()) if grant else 0
        return hold.result(replayed, self._context.store.settle_free_available(hold.request_id, available))
