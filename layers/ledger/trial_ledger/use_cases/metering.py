"""Metering: admission before an invocation (authorize) and its record after it (record usage)."""

from __future__ import annotations

import uuid
from dataclasses import replace

from ..clock import format_timestamp
from ..domain.planning.draws import Attempt
from ..domain.planning.usage import CheckedUsage, plan_usage
from ..domain.refusals import AlreadyRecorded, Contended, Outdated
from ..domain.rules import require_id, require_quantity, stop_reason, usage_fingerprint
from ..domain.state import GrantState, ProfileState, UsageRecord
from ..errors import AdmissionRefused, RequestIdConflict, TemporarilyUnavailable
from ..gateway_results import Authorization, UsageResult
from ..results import FundingSource
from .claims import Claims
from .contention import EXACT_TRIES_UNDER_CONTENTION, Known
from .context import LedgerContext


class Metering:
    def __init__(self, context: LedgerContext, claims: Claims) -> None:
        self._context = context
        self._claims = claims

    def authorize(self, account_id: str, model_id: str, sub_account_id: str | None = None) -> Authorization:
        """May the account invoke the model now? Claims the trial on first use (R3)."""
        context = self._context
        spec = context.model(account_id, model_id, sub_account_id)
        profile, grants = context.store.read_account(account_id, [model_id])
        context.snapshots.remember_profile(profile)
        grant = grants.get(model_id)
        now = context.clock.now()
        auto_claimed = False
        if grant is None and spec.trial is not None and context.campaign_open(now):
            grant, auto_claimed = self._claims.auto_claim(account_id, spec, sub_account_id, now, profile)
        context.snapshots.remember_grant(account_id, model_id, grant)
        now_text = format_timestamp(now)
        reason = stop_reason(spec, grant, now_text, context.campaign_open(now))
        free_remaining = grant.available(now_text) if grant else 0
        if reason is None:
            return Authorization(True, FundingSource.FREE, free_remaining, auto_claimed)
        if profile.postpaid_enabled:
            return Authorization(True, FundingSource.POSTPAID, free_remaining, auto_claimed)
        raise AdmissionRefused(reason.value, model_id)

    def record_usage(
        self, account_id: str, model_id: str, quantity: int, request_id: str, sub_account_id: str | None = None
    ) -> UsageResult:
        """Record one invocation exactly once per ``request_id``: free first (R6), the rest
        billable or unbilled overage, claiming the trial on first use (R3)."""
        request = self.request_of(account_id, model_id, quantity, request_id, sub_account_id)
        seen = self._context.snapshots.grant(account_id, model_id)
        known = Known(
            grant=seen if isinstance(seen, GrantState) else None,
            grant_known=seen is not None,
            profile=self._context.snapshots.profile(account_id),
            hold=self._context.snapshots.hold(request_id),
        )
        for _ in self._context.backoff.tries(entry_race=True):
            profile = known.profile
            if profile is None or not known.grant_known:
                profile, recorded = self._read(request, known)
                if recorded is not None:
                    return self.recorded_before(recorded, request, "")
            if known.hold is not None and known.hold.names_another_call(account_id, model_id):
                raise RequestIdConflict(request_id)  # a request_id names one call (R14)
            plan = plan_usage(request, known.grant, profile, self._attempt(known.lost_races), known.hold)
            try:
                self._context.store.commit_usage(plan.commit)
            except AlreadyRecorded as refusal:
                return self.recorded_before(refusal.record, request, plan.commit.usage.write_id, plan.grant_after)
            except Outdated as refusal:
                known.learn(refusal)
            except Contended:
                pass
            else:
                self._context.snapshots.forget_hold(request_id)
                return self._answer(plan.commit.usage, plan.grant_after, replayed=False)
        raise TemporarilyUnavailable("usage on this grant kept conflicting; retry with the same request_id")

    def request_of(
        self, account_id: str, model_id: str, quantity: int, request_id: str, sub_account_id: str | None
    ) -> CheckedUsage:
        """A usage as the gateway reported it, validated: raises InvalidRequest or UnknownModel."""
        spec = self._context.model(account_id, model_id, sub_account_id)
        require_quantity(quantity)
        require_id(request_id, "request_id")
        fingerprint = usage_fingerprint(account_id, model_id, quantity, sub_account_id)
        return CheckedUsage(spec, account_id, quantity, request_id, sub_account_id, fingerprint)

    def _read(self, request: CheckedUsage, known: Known) -> tuple[ProfileState, UsageRecord | None]:
        """Read the grant, the profile and the request's own item in one request (a cold container,
        or a refusal that did not carry them); the usage when the request_id has one already."""
        profile, known.grant, call = self._context.read_for_call(
            request.account_id, request.model.model_id, request.request_id
        )
        known.profile, known.grant_known = profile, True
        known.hold = call.hold if call is not None else None
        return profile, call.usage if call is not None else None

    def _attempt(self, lost_races: int) -> Attempt:
        now = self._context.clock.now()
        return Attempt(
            now=now,
            campaign_open=self._context.campaign_open(now),
            relaxed=lost_races >= EXACT_TRIES_UNDER_CONTENTION,
            write_id=uuid.uuid4().hex,
        )

    def recorded_before(
        self, record: UsageRecord, request: CheckedUsage, write_id: str, grant_after: GrantState | None = None
    ) -> UsageResult:
        """The answer when the request_id has a record: ours (written by ``write_id``, landed by a
        retry after its response was lost; ``grant_after`` is the grant it left), a replay, or a
        conflict (raised)."""
        if record.write_id == write_id:
            return self._answer(record, grant_after, replayed=False)
        if record.fingerprint != request.fingerprint:
            raise RequestIdConflict(request.request_id) from None
        return self._answer(record, None, replayed=True)

    def _answer(self, record: UsageRecord, grant_after: GrantState | None, replayed: bool) -> UsageResult:
        """The result of a recorded usage; settles ``free_remaining`` if a contended write (or a
        writer that died right after committing) left it open."""
        if record.free_remaining is not None:
            if grant_after is not None:
                self._context.snapshots.remember_grant(record.account_id, record.model_id, grant_after)
            return record.result(replayed)
        return replace(record, free_remaining=self._settle(record)).result(replayed)

    def _settle(self, record: UsageRecord) -> int:
        """Read the grant after a relaxed draw, take it out of the expiry index if the draw
        emptied it, and fill in the record's ``free_remaining`` once."""
        store = self._context.store
        _, grants = store.read_account(record.account_id, [record.model_id])
        grant = grants.get(record.model_id)
        self._context.snapshots.remember_grant(record.account_id, record.model_id, grant)
        if grant is not None and grant.remaining == 0:
            store.drop_exhausted_from_index(record.account_id, record.model_id)
        usable = grant.available(self._context.now_text()) if grant else 0
        return store.settle_free_remaining(record.request_id, usable)
