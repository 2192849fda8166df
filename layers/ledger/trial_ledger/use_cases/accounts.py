"""Accounts: reading one, activating TokenHub, switching postpaid billing."""

from __future__ import annotations

from ..domain.refusals import ActivationMissing
from ..domain.rules import require_id
from ..errors import AccountNotActivated
from ..results import Account
from .context import LedgerContext


class Accounts:
    def __init__(self, context: LedgerContext) -> None:
        self._context = context

    def account(self, account_id: str) -> Account:
        return self._context.store.get_profile(require_id(account_id, "account_id")).account()

    def activate(self, account_id: str) -> Account:
        """Activate TokenHub for the account; repeating it keeps the first ``activated_at``."""
        profile = self._context.store.activate(require_id(account_id, "account_id"), self._context.now_text())
        self._context.snapshots.remember_profile(profile)
        return profile.account()

    def set_postpaid(self, account_id: str, enabled: bool) -> Account:
        """Turn postpaid billing on or off (R7: on, usage beyond free quota is billed)."""
        require_id(account_id, "account_id")
        try:
            profile = self._context.store.set_postpaid(account_id, enabled, self._context.now_text())
        except ActivationMissing:
            raise AccountNotActivated("activate TokenHub before changing postpaid billing") from None
        self._context.snapshots.remember_profile(profile)
        return profile.account()
