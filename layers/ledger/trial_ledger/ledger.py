"""Ledger: the one facade the handlers call; each of its questions is answered by a use case."""

from __future__ import annotations

import functools
import random
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from aws_lambda_powertools import Logger

from .clock import Clock, SystemClock
from .config.catalog import Catalog
from .config.settings import load_settings
from .dynamo.errors import StoreUnavailable
from .dynamo.store import LedgerStore
from .errors import TemporarilyUnavailable
from .retry import Backoff
from .use_cases.context import LedgerContext
from .use_cases.registry import UseCases
from .use_cases.snapshots import SnapshotCache

if TYPE_CHECKING:
    from .console_results import Account, ClaimAvailability, ClaimOutcome, UsagePage
    from .correction_results import ActionAsk, ActionResult, LedgerPage, ReversalResult, SupportView
    from .gateway_results import Authorization, HoldAsk, HoldResult, RecordRefusal, ReleaseResult, UsageAsk, UsageResult
    from .job_results import ExpiringSoonReport, ExpiryReport, SweepReport
    from .results import Grant

# A child of the handler's Powertools Logger (same service): its lines carry the correlation id.
logger = Logger(child=True)


def _unavailable_after_retries[**P, R](operation: Callable[P, R]) -> Callable[P, R]:
    @functools.wraps(operation)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return operation(*args, **kwargs)
        except StoreUnavailable as error:
            logger.warning("dynamodb unavailable after retries", extra={"error": str(error)})
            raise TemporarilyUnavailable("the ledger is busy; retry shortly") from error

    return wrapper


class Ledger:
    """One per container. The arguments replace the deploy's settings (tests, the benchmark)."""

    def __init__(
        self,
        *,
        store: LedgerStore | None = None,
        catalog: Catalog | None = None,
        clock: Clock | None = None,
        campaign_close: datetime | None = None,
        backoff: Backoff | None = None,
    ) -> None:
        self._context = LedgerContext(
            store=store or LedgerStore(),
            catalog=load_settings().catalog if catalog is None else catalog,  # an empty one is a catalog
            clock=clock or SystemClock(),
            campaign_close=campaign_close or load_settings().campaign_closes_at,
            backoff=backoff or Backoff(),
            snapshots=SnapshotCache(),
            hold_ttl_seconds=load_settings().hold_ttl_seconds,
            reversal_window=timedelta(days=load_settings().reversal_window_days),
            alert_thresholds=load_settings().balance_low_thresholds,
        )
        self._use = UseCases(self._context)

    @property
    def clock(self) -> Clock:
        return self._context.clock

    @clock.setter
    def clock(self, clock: Clock) -> None:
        self._context.clock = clock

    @property
    def catalog(self) -> Catalog:
        return self._context.catalog

    # -- Lambda SnapStart -----------------------------------------------------------------

    def prime(self) -> None:
        """Before the snapshot: everything but a request (clients, service model, every use case)."""
        self._context.store.prime_clients()
        self._use.load_all()

    def after_restore(self) -> None:
        """After a restore: nothing one restored environment may share with another. The retry
        jitter is reseeded (or every copy would back off in step on a hot grant) and the snapshots
        of grants are dropped (priming reads none, but a snapshot taken later might)."""
        random.seed()
        self._context.snapshots = SnapshotCache()

    # -- accounts -------------------------------------------------------------------------

    @_unavailable_after_retries
    def account(self, account_id: str) -> Account:
        return self._use.accounts.account(account_id)

    @_unavailable_after_retries
    def activate(self, account_id: str) -> Account:
        return self._use.accounts.activate(account_id)

    @_unavailable_after_retries
    def set_postpaid(self, account_id: str, enabled: bool) -> Account:
        return self._use.accounts.set_postpaid(account_id, enabled)

    @_unavailable_after_retries
    def set_alerts(self, account_id: str, balance_low_percent: Sequence[int]) -> Account:
        """The account's TrialBalanceLow thresholds from now on (R20), on its profile and grants."""
        return self._use.accounts.set_alerts(account_id, balance_low_percent)

    # -- gallery and claims ---------------------------------------------------------------

    @_unavailable_after_retries
    def availability(self, account_id: str) -> dict[str, ClaimAvailability]:
        return self._use.claims.availability(account_id)

    @_unavailable_after_retries
    def claim(self, account_id: str, model_ids: Sequence[str], claimed_by: str | None = None) -> list[ClaimOutcome]:
        return self._use.claims.claim(account_id, model_ids, claimed_by)

    @_unavailable_after_retries
    def grants(self, account_id: str) -> list[Grant]:
        return self._use.claims.grants(account_id)

    # -- gateway: admission and metering --------------------------------------------------

    @_unavailable_after_retries
    def authorize(self, account_id: str, model_id: str, sub_account_id: str | None = None) -> Authorization:
        return self._use.metering.authorize(account_id, model_id, sub_account_id)

    @_unavailable_after_retries
    def record_usage(
        self, account_id: str, model_id: str, quantity: int, request_id: str, sub_account_id: str | None = None
    ) -> UsageResult:
        return self._use.metering.record_usage(account_id, model_id, quantity, request_id, sub_account_id)

    @_unavailable_after_retries
    def record_usage_batch(self, asks: Sequence[UsageAsk]) -> list[UsageResult | RecordRefusal]:
        """Record up to 100 usages in order, as if one by one; a refused record is answered in
        its place. Not atomic: after TemporarilyUnavailable the recorded ones answer as replays."""
        return self._use.batches.record(asks)

    @_unavailable_after_retries
    def hold(self, ask: HoldAsk) -> HoldResult:
        return self._use.holds.hold(ask)

    @_unavailable_after_retries
    def release_hold(self, request_id: str) -> ReleaseResult:
        return self._use.holds.release(request_id)

    @_unavailable_after_retries
    def reverse_usage(self, request_id: str, reason: str) -> ReversalResult:
        """Reverse one recorded usage, once, within its window (R17)."""
        return self._use.reversals.reverse(request_id, reason)

    # -- operators (R18) -------------------------------------------------------------------

    @_unavailable_after_retries
    def extend_grant(self, ask: ActionAsk, expires_at: datetime) -> ActionResult:
        """Move a grant's validity later, once per ``action_id`` (R18)."""
        return self._use.operator_actions.extend(ask, expires_at)

    @_unavailable_after_retries
    def void_grant(self, ask: ActionAsk) -> ActionResult:
        """End a grant now, once per ``action_id`` (R18)."""
        return self._use.operator_actions.void(ask)

    @_unavailable_after_retries
    def support_view(self, account_id: str) -> SupportView:
        return self._use.operator_actions.support_view(account_id)

    @_unavailable_after_retries
    def usage(
        self, account_id: str, model_id: str | None = None, limit: int = 50, cursor: str | None = None
    ) -> UsagePage:
        return self._use.history.page(account_id, model_id, limit, cursor)

    @_unavailable_after_retries
    def grant_ledger(self, account_id: str, model_id: str, limit: int = 50, cursor: str | None = None) -> LedgerPage:
        """The entries of one grant's ledger, oldest first (R19)."""
        return self._use.grant_ledgers.page(account_id, model_id, limit, cursor)

    # -- nightly expiry -------------------------------------------------------------------

    @_unavailable_after_retries
    def expire_due(
        self, as_of: datetime, keep_going: Callable[[], bool] = lambda: True, page_size: int = 500,
        workers: int | None = None,
    ) -> ExpiryReport:  # fmt: skip
        """``workers`` shards at once; the deploy's ``EXPIRY_WORKERS`` when not given."""
        return self._use.expiry.expire_due(as_of, keep_going, page_size, workers or load_settings().expiry_workers)

    @_unavailable_after_retries
    def mark_expiring_soon(
        self, as_of: datetime, window: timedelta, keep_going: Callable[[], bool] = lambda: True, page_size: int = 500,
        workers: int | None = None,
    ) -> ExpiringSoonReport:  # fmt: skip
        workers = workers or load_settings().expiry_workers
        return self._use.expiry.mark_expiring_soon(as_of, window, keep_going, page_size, workers)

    @_unavailable_after_retries
    def sweep_holds(
        self, as_of: datetime, keep_going: Callable[[], bool] = lambda: True, page_size: int = 500
    ) -> SweepReport:
        return self._use.hold_sweep.sweep(as_of, keep_going, page_size)
