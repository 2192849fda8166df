"""Accounts: reading one, activating TokenHub, switching postpaid billing, alert thresholds."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from ..console_results import Account
from ..domain.refusals import ActivationMissing, Contended, ProfileChanged
from ..domain.rules import require_id, require_thresholds
from ..domain.writes import AlertsChange
from ..errors import AccountNotActivated, TemporarilyUnavailable
from .context import LedgerContext


class Accounts:
    def __init__(self, context: LedgerContext) -> None:
        self._context = context

    def account(self, account_id: str) -> Account:
        profile = self._context.store.get_profile(require_id(account_id, "account_id"))
        self._context.snapshots.remember_profile(profile)
        return profile.account(self._context.alert_thresholds)

    def activate(self, account_id: str) -> Account:
        """Activate TokenHub for the account; repeating it keeps the first ``activated_at``."""
        profile = self._context.store.activate(require_id(account_id, "account_id"), self._context.now_text())
        self._context.snapshots.remember_profile(profile)
        return profile.account(self._context.alert_thresholds)

    def set_postpaid(self, account_id: str, enabled: bool) -> Account:
        """Turn postpaid billing on or off (R7: on, usage beyond free quota is billed)."""
        require_id(account_id, "account_id")
        try:
            profile = self._context.store.set_postpaid(account_id, enabled, self._context.now_text())
        except ActivationMissing:
            raise AccountNotActivated("activate TokenHub before changing postpaid billing") from None
        self._context.snapshots.remember_profile(profile)
        return profile.account(self._context.alert_thresholds)

    def set_alerts(self, account_id: str, balance_low_percent: Sequence[int]) -> Account:
        """The account's TrialBalanceLow thresholds from now on (R20), on its profile and on every
        grant it has (the events function reads them there); a grant claimed meanwhile makes the
        write refuse, and it is done again with that grant too."""
        require_id(account_id, "account_id")
        thresholds = require_thresholds(balance_low_percent)
        for _ in self._context.backoff.tries():
            profile, model_ids = self._context.store.read_claims(account_id)
            if profile.activated_at is None:
                raise AccountNotActivated(ACTIVATE_FOR_ALERTS)
            now = self._context.now_text()
            change = AlertsChange(account_id, thresholds, tuple(model_ids), profile.grants_claimed, now)
            try:
                self._context.store.set_alerts(change)
            except ActivationMissing:
                raise AccountNotActivated(ACTIVATE_FOR_ALERTS) from None
            except (ProfileChanged, Contended):
                continue
            profile = replace(profile, balance_low_percent=thresholds)
            self._context.snapshots.remember_profile(profile)
            return profile.account(self._context.alert_thresholds)
        raise TemporarilyUnavailable("the alert thresholds kept conflicting with claims; retry shortly")


ACTIVATE_FOR_ALERTS = "activate TokenHub before setting alert thresholds"
