"""The ledger's use cases, each created (and its module imported) on first use.

A container serves one function's routes and an invocation needs one use case: the claim function
never meters, the consume function never lists usage or expires grants. Importing a use case when
it is first asked for keeps the others out of the cold start ("import at init only what every
invocation needs", docs/performance.md); ``load_all`` imports them all before a SnapStart
snapshot, so that restored environments find them loaded."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from .context import LedgerContext

if TYPE_CHECKING:
    from .accounts import Accounts
    from .batches import UsageBatches
    from .claims import Claims
    from .corrections.operator_actions import OperatorActions
    from .corrections.reversals import Reversals
    from .expiry import Expiry
    from .grant_ledger import GrantLedgers
    from .history import UsageHistory
    from .hold_sweep import HoldSweep
    from .holds import Holds
    from .metering import Metering

# Imports inside the properties are the point of this module (see its docstring).
# ruff: noqa: PLC0415


class UseCases:
    def __init__(self, context: LedgerContext) -> None:
        self._context = context

    def load_all(self) -> None:
        names = ("accounts", "claims", "metering", "batches", "holds", "reversals", "operator_actions", "history",
                 "grant_ledgers", "expiry", "hold_sweep")  # fmt: skip
        for name in names:
            getattr(self, name)

    @functools.cached_property
    def accounts(self) -> Accounts:
        from .accounts import Accounts

        return Accounts(self._context)

    @functools.cached_property
    def claims(self) -> Claims:
        from .claims import Claims

        return Claims(self._context)

    @functools.cached_property
    def metering(self) -> Metering:
        from .metering import Metering

        return Metering(self._context, self.claims)

    @functools.cached_property
    def batches(self) -> UsageBatches:
        from .batches import UsageBatches

        return UsageBatches(self._context, self.metering)

    @functools.cached_property
    def holds(self) -> Holds:
        from .holds import Holds

        return Holds(self._context)

    @functools.cached_property
    def reversals(self) -> Reversals:
        from .corrections.reversals import Reversals

        return Reversals(self._context)

    @functools.cached_property
    def operator_actions(self) -> OperatorActions:
        from .corrections.operator_actions import OperatorActions

        return OperatorActions(self._context)

    @functools.cached_property
    def history(self) -> UsageHistory:
        from .history import UsageHistory

        return UsageHistory(self._context)

    @functools.cached_property
    def grant_ledgers(self) -> GrantLedgers:
        from .grant_ledger import GrantLedgers

        return GrantLedgers(self._context)

    @functools.cached_property
    def expiry(self) -> Expiry:
        from .expiry import Expiry

        return Expiry(self._context)

    @functools.cached_property
    def hold_sweep(self) -> HoldSweep:
        from .hold_sweep import HoldSweep

        return HoldSweep(self._context)
