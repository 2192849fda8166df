"""The ledger's operations: the contract's rules applied to the store, one method per question
the platform asks. No HTTP here; errors are domain exceptions with stable codes."""

from __future__ import annotations

import functools
import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime
from decimal import Decimal

from .catalog import Catalog, ModelSpec, load_catalog
from .clock import Clock, SystemClock, format_timestamp
from .cursor import decode_cursor, encode_cursor
from .errors import AccountNotActivated, AdmissionRefused, InvalidRequest, RequestIdConflict, TemporarilyUnavailable
from .errors import UnknownModel as UnknownModelError
from .retry import Backoff
from .rules import (
    MAX_MODELS_PER_CLAIM,
    GrantState,
    charge_for,
    effective_grant,
    expiry_of,
    format_money,
    require_id,
    require_quantity,
    split_usage,
    stop_reason,
    usage_fingerprint,
)
from .settings import campaign_closes_at
from .snapshots import SnapshotCache
from .store import (
    CommitRefused,
    ExpiryCandidate,
    GrantDraw,
    LedgerStore,
    NewGrant,
    ProfileState,
    StoreUnavailable,
    UsageCommit,
    UsageRecord,
    all_expiry_shards,
)
from .views import (
    Account,
    Authorization,
    ClaimAvailability,
    ClaimMethod,
    ClaimOutcome,
    ClaimOutcomeKind,
    ExpiryReport,
    FundingSource,
    Grant,
    UsagePage,
    UsageResult,
)

logger = logging.getLogger(__name__)

MAX_USAGE_PAGE = 100
EXACT_TRIES_UNDER_CONTENTION = 2
"""Exact-remainder draws that may lose a race before a draw settles for ``remaining >= free``."""


def _unavailable_after_retries[**P, R](operation: Callable[P, R]) -> Callable[P, R]:
    @functools.wraps(operation)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return operation(*args, **kwargs)
        except StoreUnavailable as error:
            logger.warning("dynamodb unavailable after retries: %s", error)
            raise TemporarilyUnavailable("the ledger is busy; retry shortly") from error

    return wrapper


class Ledger:
    def __init__(
        self,
        *,
        store: LedgerStore | None = None,
        catalog: Catalog | None = None,
        clock: Clock | None = None,
        campaign_close: datetime | None = None,
        backoff: Backoff | None = None,
        snapshots: SnapshotCache | None = None,
    ) -> None:
        self._store = store or LedgerStore()
        self._catalog = catalog
        self.clock = clock or SystemClock()
        self._campaign_close = campaign_close or campaign_closes_at()
        self._backoff = backoff or Backoff()
        self._snapshots = snapshots or SnapshotCache()

    @property
    def catalog(self) -> Catalog:
        if self._catalog is None:
            self._catalog = load_catalog()
        return self._catalog

    def campaign_open(self, now: datetime) -> bool:
        return now < self._campaign_close

    # -- accounts -------------------------------------------------------------------------

    @_unavailable_after_retries
    def account(self, account_id: str) -> Account:
        return _account(self._store.get_profile(require_id(account_id, "account_id")))

    @_unavailable_after_retries
    def activate(self, account_id: str) -> Account:
        """Activate TokenHub for the account; repeating it keeps the first ``activated_at``."""
        profile = self._store.activate(require_id(account_id, "account_id"), self._now())
        self._snapshots.remember_profile(profile)
        return _account(profile)

    @_unavailable_after_retries
    def set_postpaid(self, account_id: str, enabled: bool) -> Account:
        profile = self._store.set_postpaid(require_id(account_id, "account_id"), enabled, self._now())
        if profile is None:
            raise AccountNotActivated("activate TokenHub before changing postpaid billing")
        self._snapshots.remember_profile(profile)
        return _account(profile)

    # -- gallery and claims ---------------------------------------------------------------

    @_unavailable_after_retries
    def availability(self, account_id: str) -> dict[str, ClaimAvailability]:
        """For every catalog model, whether the account could claim it now, and why not."""
        profile, grants = self._store.read_whole_account(require_id(account_id, "account_id"))
        claimed = {grant.model_id for grant in grants}
        campaign_open = self.campaign_open(self.clock.now())
        result = {}
        for model_id, spec in self.catalog.items():
            reason: str | None = None
            if model_id in claimed:
                reason = ClaimOutcomeKind.ALREADY_CLAIMED.value
            elif spec.trial is None:
                reason = ClaimOutcomeKind.NOT_ELIGIBLE.value
            elif not campaign_open:
                reason = ClaimOutcomeKind.CAMPAIGN_ENDED.value
            elif profile.activated_at is None:
                reason = AccountNotActivated.code
            result[model_id] = ClaimAvailability(claimable=reason is None, reason=reason)
        return result

    @_unavailable_after_retries
    def claim(self, account_id: str, model_ids: Sequence[str], claimed_by: str | None = None) -> list[ClaimOutcome]:
        """Manual claim from the gallery (R2): one outcome per model, in request order."""
        require_id(account_id, "account_id")
        if claimed_by is not None:
            require_id(claimed_by, "sub_account_id")
        if not 1 <= len(model_ids) <= MAX_MODELS_PER_CLAIM:
            raise InvalidRequest(f"name 1 to {MAX_MODELS_PER_CLAIM} models", field="models")
        if len(set(model_ids)) != len(model_ids):
            raise InvalidRequest("models must be distinct", field="models")
        now = self.clock.now()
        trial_models = [m for m in model_ids if (spec := self.catalog.get(m)) is not None and spec.trial is not None]
        existing: dict[str, GrantState] = {}
        created: dict[str, GrantState] = {}
        if trial_models and self.campaign_open(now):
            created, existing = self._create_manual_grants(account_id, trial_models, claimed_by, now)
        else:
            profile, existing = self._store.read_account(account_id, trial_models)
            if profile.activated_at is None:
                raise AccountNotActivated("activate TokenHub before claiming free trials")
        now_text = format_timestamp(now)
        return [self._claim_outcome(m, created, existing, now_text) for m in model_ids]

    def _create_manual_grants(
        self, account_id: str, model_ids: list[str], claimed_by: str | None, now: datetime
    ) -> tuple[dict[str, GrantState], dict[str, GrantState]]:
        existing: dict[str, GrantState] = {}
        for _ in self._backoff.tries():
            drafts = [
                NewGrant(self._new_grant(account_id, self.catalog[m], ClaimMethod.MANUAL, now), claimed_by)
                for m in model_ids
                if m not in existing
            ]
            if not drafts:
                return {}, existing
            try:
                self._store.create_grants(account_id, drafts, require_activation=True)
            except CommitRefused as refusal:
                if refusal.profile_changed:
                    raise AccountNotActivated("activate TokenHub before claiming free trials") from None
                existing.update(refusal.existing_grants)
                continue
            for draft in drafts:
                self._snapshots.remember_grant(account_id, draft.state.model_id, draft.state)
            return {draft.state.model_id: draft.state for draft in drafts}, existing
        raise TemporarilyUnavailable("claims kept conflicting; retry shortly")

    def _claim_outcome(
        self, model_id: str, created: dict[str, GrantState], existing: dict[str, GrantState], now: str
    ) -> ClaimOutcome:
        spec = self.catalog.get(model_id)
        if spec is None:
            return ClaimOutcome(model_id, ClaimOutcomeKind.UNKNOWN_MODEL, None)
        if spec.trial is None:
            return ClaimOutcome(model_id, ClaimOutcomeKind.NOT_ELIGIBLE, None)
        if model_id in created:
            return ClaimOutcome(model_id, ClaimOutcomeKind.CLAIMED, effective_grant(created[model_id], now))
        if model_id in existing:
            return ClaimOutcome(model_id, ClaimOutcomeKind.ALREADY_CLAIMED, effective_grant(existing[model_id], now))
        return ClaimOutcome(model_id, ClaimOutcomeKind.CAMPAIGN_ENDED, None)

    @_unavailable_after_retries
    def grants(self, account_id: str) -> list[Grant]:
        """The account's grants in their effective state now, sorted by ``model_id``."""
        _, grants = self._store.read_whole_account(require_id(account_id, "account_id"))
        now = self._now()
        return sorted((effective_grant(grant, now) for grant in grants), key=lambda grant: grant.model_id)

    # -- gateway: admission and metering --------------------------------------------------

    @_unavailable_after_retries
    def authorize(self, account_id: str, model_id: str, sub_account_id: str | None = None) -> Authorization:
        """May the account invoke the model now? Claims the trial on first use (R3)."""
        spec = self._model(account_id, model_id, sub_account_id)
        profile, grants = self._store.read_account(account_id, [model_id])
        self._snapshots.remember_profile(profile)
        grant = grants.get(model_id)
        now = self.clock.now()
        auto_claimed = False
        if grant is None and spec.trial is not None and self.campaign_open(now):
            grant, auto_claimed = self._auto_claim(account_id, spec, sub_account_id, now)
        self._snapshots.remember_grant(account_id, model_id, grant)
        now_text = format_timestamp(now)
        reason = stop_reason(spec, grant, now_text, self.campaign_open(now))
        free_remaining = grant.usable_remaining(now_text) if grant else 0
        if reason is None:
            return Authorization(True, FundingSource.FREE, free_remaining, auto_claimed)
        if profile.postpaid_enabled:
            return Authorization(True, FundingSource.POSTPAID, free_remaining, auto_claimed)
        raise AdmissionRefused(reason.value, model_id)

    def _auto_claim(
        self, account_id: str, spec: ModelSpec, claimed_by: str | None, now: datetime
    ) -> tuple[GrantState, bool]:
        draft = NewGrant(self._new_grant(account_id, spec, ClaimMethod.AUTO, now), claimed_by)
        for _ in self._backoff.tries():
            try:
                self._store.create_grants(account_id, [draft], require_activation=False)
            except CommitRefused as refusal:
                if refusal.grant is not None:
                    return refusal.grant, False
                continue
            return draft.state, True
        raise TemporarilyUnavailable("the claim kept conflicting; retry shortly")

    @_unavailable_after_retries
    def record_usage(
        self,
        account_id: str,
        model_id: str,
        quantity: int,
        request_id: str,
        sub_account_id: str | None = None,
    ) -> UsageResult:
        """Record one invocation exactly once per ``request_id``: free first (R6), the rest
        billable or unbilled overage, claiming the trial on first use (R3)."""
        spec = self._model(account_id, model_id, sub_account_id)
        require_quantity(quantity)
        require_id(request_id, "request_id")
        fingerprint = usage_fingerprint(account_id, model_id, quantity, sub_account_id)
        seen = self._snapshots.grant(account_id, model_id)
        grant_known = seen is not None
        grant = seen if isinstance(seen, GrantState) else None
        profile = self._snapshots.profile(account_id)
        lost_races = 0
        for _ in self._backoff.tries():
            if not grant_known or profile is None:
                profile, grants = self._store.read_account(account_id, [model_id])
                grant, grant_known = grants.get(model_id), True
                self._snapshots.remember_profile(profile)
                self._snapshots.remember_grant(account_id, model_id, grant)
            relaxed = lost_races >= EXACT_TRIES_UNDER_CONTENTION
            commit, grant_after = self._plan_usage(
                spec, account_id, quantity, request_id, sub_account_id, fingerprint, grant, profile, relaxed
            )
            try:
                self._store.commit_usage(commit)
            except CommitRefused as refusal:
                if refusal.usage is not None:
                    if refusal.usage.write_id == commit.usage.write_id:
                        # Our own write, applied by a client retry after its response was lost.
                        return self._answer(commit.usage, grant_after, replayed=False)
                    if refusal.usage.fingerprint != fingerprint:
                        raise RequestIdConflict(request_id) from None
                    return self._answer(refusal.usage, None, replayed=True)
                if refusal.grant_changed:
                    # The refusal carries the grant as it is, unless it came from a bare check.
                    grant, grant_known = refusal.grant, refusal.grant is not None
                    lost_races += 1
                if refusal.profile_changed:
                    profile = refusal.profile
                continue
            return self._answer(commit.usage, grant_after, replayed=False)
        raise TemporarilyUnavailable("usage on this grant kept conflicting; retry with the same request_id")

    def _answer(self, record: UsageRecord, grant_after: GrantState | None, replayed: bool) -> UsageResult:
        """The result of a recorded usage; settles ``free_remaining`` if a contended write (or a
        writer that died right after committing) left it open."""
        if record.free_remaining is not None:
            if grant_after is not None:
                self._snapshots.remember_grant(record.account_id, record.model_id, grant_after)
            return _usage_result(record, replayed)
        _, grants = self._store.read_account(record.account_id, [record.model_id])
        grant = grants.get(record.model_id)
        self._snapshots.remember_grant(record.account_id, record.model_id, grant)
        if grant is not None and grant.remaining == 0:
            self._store.drop_exhausted_from_index(record.account_id, record.model_id)
        usable = grant.usable_remaining(self._now()) if grant else 0
        settled = self._store.settle_free_remaining(record.request_id, usable)
        return _usage_result(replace(record, free_remaining=settled), replayed)

    def _plan_usage(
        self,
        spec: ModelSpec,
        account_id: str,
        quantity: int,
        request_id: str,
        sub_account_id: str | None,
        fingerprint: str,
        grant: GrantState | None,
        profile: ProfileState,
        relaxed: bool = False,
    ) -> tuple[UsageCommit, GrantState | None]:
        moment = self.clock.now()
        now = format_timestamp(moment)
        new_grant: NewGrant | None = None
        draw: GrantDraw | None = None
        expect_no_grant = False
        grant_after = grant
        if grant is None and spec.trial is not None and self.campaign_open(moment):
            fresh = self._new_grant(account_id, spec, ClaimMethod.AUTO, moment)
            free = min(quantity, fresh.remaining)
            grant_after = replace(fresh, used=free, remaining=fresh.remaining - free)
            new_grant = NewGrant(grant_after, sub_account_id)
        elif grant is None:
            free = 0
            expect_no_grant = spec.trial is not None
        else:
            free = min(quantity, grant.usable_remaining(now))
            # Under contention a draw the remainder fully covers stops insisting on the exact
            # remainder (which others keep changing); a draw that empties the grant stays exact.
            exact = not (relaxed and free == quantity and free < grant.remaining)
            if free:
                draw = GrantDraw(spec.model_id, grant.remaining, free, now, exact=exact)
                grant_after = replace(grant, used=grant.used + free, remaining=grant.remaining - free)
        split = split_usage(quantity, free, profile.postpaid_enabled)
        left_after = grant_after.usable_remaining(now) if grant_after else 0
        usage = UsageRecord(
            request_id=request_id,
            account_id=account_id,
            model_id=spec.model_id,
            sub_account_id=sub_account_id,
            quantity=quantity,
            free=split.free,
            billable=split.billable,
            unbilled_overage=split.unbilled_overage,
            currency=spec.price.currency,
            unit_price=format_money(spec.price.unit_price),
            charge=format_money(charge_for(split.billable, spec.price.unit_price)),
            free_remaining=None if draw is not None and not draw.exact else left_after,
            auto_claimed=new_grant is not None,
            recorded_at=now,
            fingerprint=fingerprint,
            write_id=uuid.uuid4().hex,
        )
        commit = UsageCommit(
            usage=usage,
            draw=draw,
            new_grant=new_grant,
            expect_no_grant=expect_no_grant,
            expect_postpaid=profile.postpaid_enabled if split.free < quantity else None,
        )
        return commit, grant_after

    @_unavailable_after_retries
    def usage(
        self, account_id: str, model_id: str | None = None, limit: int = 50, cursor: str | None = None
    ) -> UsagePage:
        """The account's usage records, newest first, optionally of one model."""
        require_id(account_id, "account_id")
        if model_id is not None:
            require_id(model_id, "model_id")
        if not 1 <= limit <= MAX_USAGE_PAGE:
            raise InvalidRequest(f"limit must be from 1 to {MAX_USAGE_PAGE}", field="limit")
        after = decode_cursor(cursor) if cursor else None
        records, more = self._store.usage_page(account_id, model_id, limit, after)
        next_cursor = None
        if more:
            last = records[-1]
            next_cursor = encode_cursor(f"{last.recorded_at}#{last.request_id}", last.request_id)
        return UsagePage([_usage_result(record, replayed=False) for record in records], next_cursor)

    # -- nightly expiry -------------------------------------------------------------------

    @_unavailable_after_retries
    def expire_due(
        self, as_of: datetime, keep_going: Callable[[], bool] = lambda: True, page_size: int = 500
    ) -> ExpiryReport:
        """Record the expiry of every grant due at ``as_of`` that still holds a remainder.

        Stops early (``complete: False``) as soon as ``keep_going`` says so; what is left stays in
        the sparse index, so the next call carries on where this one stopped."""
        as_of_text = format_timestamp(as_of)
        expired_grants = expired_quantity = 0
        for shard in all_expiry_shards():
            start = None
            while True:
                if not keep_going():
                    return ExpiryReport(as_of_text, expired_grants, expired_quantity, complete=False)
                candidates, start = self._store.expiry_candidates(shard, as_of_text, page_size, start)
                for candidate in candidates:
                    quantity = self._expire_one(candidate, as_of_text)
                    if quantity:
                        expired_grants += 1
                        expired_quantity += quantity
                if start is None:
                    break
        return ExpiryReport(as_of_text, expired_grants, expired_quantity, complete=True)

    def _expire_one(self, candidate: ExpiryCandidate, as_of: str) -> int:
        # An untouched grant still holds its whole quota; a wrong guess costs one more write,
        # and the refusal hands back the grant as it is, so no read is needed either way.
        remaining = candidate.quota
        for _ in self._backoff.tries():
            if remaining == 0:
                self._store.drop_exhausted_from_index(candidate.account_id, candidate.model_id)
                return 0
            try:
                self._store.expire_grant(candidate, remaining, as_of, self._now())
            except CommitRefused as refusal:
                if refusal.expiry_recorded or (refusal.grant_changed and refusal.grant is None):
                    return 0
                if refusal.grant is not None:
                    if refusal.grant.expires_at > as_of:
                        return 0
                    remaining = refusal.grant.remaining
                continue
            self._snapshots.forget(candidate.account_id, candidate.model_id)
            return remaining
        raise TemporarilyUnavailable("expiry kept conflicting; the next run continues")

    # -- helpers --------------------------------------------------------------------------

    def _now(self) -> str:
        return format_timestamp(self.clock.now())

    def _model(self, account_id: str, model_id: str, sub_account_id: str | None) -> ModelSpec:
        require_id(account_id, "account_id")
        require_id(model_id, "model_id")
        if sub_account_id is not None:
            require_id(sub_account_id, "sub_account_id")
        spec = self.catalog.get(model_id)
        if spec is None:
            raise UnknownModelError(model_id)
        return spec

    @staticmethod
    def _new_grant(account_id: str, spec: ModelSpec, method: ClaimMethod, now: datetime) -> GrantState:
        assert spec.trial is not None
        return GrantState(
            account_id=account_id,
            model_id=spec.model_id,
            unit=spec.unit,
            quota=spec.trial.quota,
            used=0,
            remaining=spec.trial.quota,
            expired=0,
            claim_method=method,
            claimed_at=format_timestamp(now),
            expires_at=expiry_of(now, spec.trial.validity_days),
        )


def _account(profile: ProfileState) -> Account:
    return Account(profile.account_id, profile.activated_at, profile.postpaid_enabled)


def _usage_result(record: UsageRecord, replayed: bool) -> UsageResult:
    return UsageResult(
        request_id=record.request_id,
        account_id=record.account_id,
        model_id=record.model_id,
        sub_account_id=record.sub_account_id,
        quantity=record.quantity,
        free=record.free,
        billable=record.billable,
        unbilled_overage=record.unbilled_overage,
        currency=record.currency,
        charge=Decimal(record.charge),
        free_remaining=record.free_remaining,
        auto_claimed=record.auto_claimed,
        recorded_at=record.recorded_at,
        replayed=replayed,
    )
