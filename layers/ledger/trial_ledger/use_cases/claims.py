"""Claims: the gallery's claimability, manual claims (R2, R4), automatic ones (R3), once each (R1)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from itertools import batched

from ..clock import format_timestamp
from ..config.catalog import ModelSpec
from ..console_results import ClaimAvailability, ClaimOutcome
from ..domain.refusals import ActivationMissing, Contended, GrantsExist, ProfileChanged
from ..domain.rules import effective_grant, new_grant, require_id
from ..domain.state import GrantState, ProfileState
from ..domain.writes import MAX_TRANSACTION_ITEMS, NEW_GRANT_ITEMS, NewGrant
from ..errors import AccountNotActivated, InvalidRequest, TemporarilyUnavailable
from ..limits import MAX_MODELS_PER_CLAIM
from ..results import ClaimMethod, ClaimOutcomeKind, Grant
from .context import LedgerContext

ACTIVATE_FIRST = "activate TokenHub before claiming free trials"
GRANTS_PER_CLAIM_WRITE = (MAX_TRANSACTION_ITEMS - 1) // NEW_GRANT_ITEMS
"""New grants of one claim's transaction, with the profile counting them (R2's 50 take two)."""


class Claims:
    def __init__(self, context: LedgerContext) -> None:
        self._context = context

    def availability(self, account_id: str) -> dict[str, ClaimAvailability]:
        """For every catalog model, whether the account could claim it now, and why not."""
        profile, claimed_models = self._context.store.read_claims(require_id(account_id, "account_id"))
        self._context.snapshots.remember_profile(profile)  # what the claim that follows copies
        claimed = set(claimed_models)
        campaign_open = self._context.campaign_open(self._context.clock.now())
        activated = profile.activated_at is not None
        result = {}
        for model_id, spec in self._context.catalog.items():
            reason = _why_not_claimable(spec, model_id in claimed, campaign_open, activated)
            result[model_id] = ClaimAvailability(claimable=reason is None, reason=reason)
        return result

    def claim(self, account_id: str, model_ids: Sequence[str], claimed_by: str | None = None) -> list[ClaimOutcome]:
        """Manual claim from the gallery (R2): one outcome per model, in request order."""
        _require_claim(account_id, model_ids, claimed_by)
        now = self._context.clock.now()
        catalog = self._context.catalog
        trial_models = [m for m in model_ids if (spec := catalog.get(m)) is not None and spec.trial is not None]
        created: dict[str, GrantState] = {}
        if trial_models and self._context.campaign_open(now):
            created, existing = self._create_manual_grants(account_id, trial_models, claimed_by, now)
        else:
            profile, existing = self._context.store.read_account(account_id, trial_models)
            if profile.activated_at is None:
                raise AccountNotActivated(ACTIVATE_FIRST)
        now_text = format_timestamp(now)
        return [self._outcome(model_id, created, existing, now_text) for model_id in model_ids]

    def grants(self, account_id: str) -> list[Grant]:
        """The account's grants in their effective state now, sorted by ``model_id``."""
        _, grants = self._context.store.read_whole_account(require_id(account_id, "account_id"))
        now = self._context.now_text()
        return sorted((effective_grant(grant, now) for grant in grants), key=lambda grant: grant.model_id)

    def auto_claim(
        self, account_id: str, spec: ModelSpec, claimed_by: str | None, now: datetime, profile: ProfileState
    ) -> tuple[GrantState, bool]:
        """The grant of the model, claimed now on the account's behalf (R3) unless a claim got
        there first, with the alert thresholds of ``profile`` as the write finds them (R20); and
        whether this call claimed it."""
        for _ in self._context.backoff.tries():
            grant = new_grant(account_id, spec, ClaimMethod.AUTO, now, profile.balance_low_percent)
            draft = NewGrant(grant, claimed_by)
            try:
                self._context.store.create_grants(account_id, [draft], require_activation=False)
            except GrantsExist as refusal:
                if (existing := refusal.grants.get(spec.model_id)) is not None:
                    return existing, False
            except ProfileChanged as refusal:
                profile = refusal.profile
                self._context.snapshots.remember_profile(profile)
            except Contended:
                pass
            else:
                return draft.state, True
        raise TemporarilyUnavailable("the claim kept conflicting; retry shortly")

    def _create_manual_grants(
        self, account_id: str, model_ids: list[str], claimed_by: str | None, now: datetime
    ) -> tuple[dict[str, GrantState], dict[str, GrantState]]:
        """Grants created by this call, and those that existed: a transaction for every
        GRANTS_PER_CLAIM_WRITE models."""
        created: dict[str, GrantState] = {}
        existing: dict[str, GrantState] = {}
        for chunk in batched(model_ids, GRANTS_PER_CLAIM_WRITE):
            made, found = self._create_grants_once(account_id, list(chunk), claimed_by, now)
            created |= made
            existing |= found
        return created, existing

    def _create_grants_once(
        self, account_id: str, model_ids: list[str], claimed_by: str | None, now: datetime
    ) -> tuple[dict[str, GrantState], dict[str, GrantState]]:
        """Grants created by this call, and those that existed; one transaction for the new ones,
        repeated without the models a refusal shows granted already."""
        existing: dict[str, GrantState] = {}
        # The alert thresholds to copy (R20): as last seen here (the gallery's read), else none;
        # the write proves them, and a refusal hands back the profile to copy instead.
        profile = self._context.snapshots.profile(account_id) or ProfileState.absent(account_id)
        for _ in self._context.backoff.tries():
            catalog, thresholds = self._context.catalog, profile.balance_low_percent
            drafts = [
                NewGrant(new_grant(account_id, catalog[m], ClaimMethod.MANUAL, now, thresholds), claimed_by)
                for m in model_ids
                if m not in existing
            ]
            if not drafts:
                return {}, existing
            try:
                self._context.store.create_grants(account_id, drafts, require_activation=True)
            except ActivationMissing:
                raise AccountNotActivated(ACTIVATE_FIRST) from None
            except GrantsExist as refusal:
                existing.update(refusal.grants)
            except ProfileChanged as refusal:
                profile = refusal.profile
                self._context.snapshots.remember_profile(profile)
            except Contended:
                pass
            else:
                for draft in drafts:
                    self._context.snapshots.remember_grant(account_id, draft.state.model_id, draft.state)
                return {draft.state.model_id: draft.state for draft in drafts}, existing
        raise TemporarilyUnavailable("claims kept conflicting; retry shortly")

    def _outcome(
        self, model_id: str, created: dict[str, GrantState], existing: dict[str, GrantState], now: str
    ) -> ClaimOutcome:
        spec = self._context.catalog.get(model_id)
        if spec is None:
            return ClaimOutcome(model_id, ClaimOutcomeKind.UNKNOWN_MODEL, None)
        if spec.trial is None:
            return ClaimOutcome(model_id, ClaimOutcomeKind.NOT_ELIGIBLE, None)
        if model_id in created:
            return ClaimOutcome(model_id, ClaimOutcomeKind.CLAIMED, effective_grant(created[model_id], now))
        if model_id in existing:
            return ClaimOutcome(model_id, ClaimOutcomeKind.ALREADY_CLAIMED, effective_grant(existing[model_id], now))
        return ClaimOutcome(model_id, ClaimOutcomeKind.CAMPAIGN_ENDED, None)


def _require_claim(account_id: str, model_ids: Sequence[str], claimed_by: str | None) -> None:
    require_id(account_id, "account_id")
    if claimed_by is not None:
        require_id(claimed_by, "sub_account_id")
    if not 1 <= len(model_ids) <= MAX_MODELS_PER_CLAIM:
        raise InvalidRequest(f"name 1 to {MAX_MODELS_PER_CLAIM} models", field="models")
    if len(set(model_ids)) != len(model_ids):
        raise InvalidRequest("models must be distinct", field="models")


def _why_not_claimable(spec: ModelSpec, claimed: bool, campaign_open: bool, activated: bool) -> str | None:
    if claimed:
        return ClaimOutcomeKind.ALREADY_CLAIMED.value
    if spec.trial is None:
        return ClaimOutcomeKind.NOT_ELIGIBLE.value
    if not campaign_open:
        return ClaimOutcomeKind.CAMPAIGN_ENDED.value
    if not activated:
        return AccountNotActivated.code
    return None
