"""What the ledger's use cases share: the store, catalog, clock, campaign close, retries, snapshots."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from ..clock import Clock, format_timestamp
from ..config.catalog import Catalog, ModelSpec
from ..domain.rules import require_id
from ..domain.state import CallRecord, GrantState, ProfileState
from ..dynamo.store import LedgerStore
from ..errors import UnknownModel
from ..retry import Backoff
from .snapshots import SnapshotCache


@dataclass(eq=False, slots=True)
class LedgerContext:
    """What every use case works with: the store, the catalog, the clock, the campaign's close, the retries,
    the snapshots and the deploy's defaults."""

    store: LedgerStore
    catalog: Catalog
    clock: Clock
    """Assignable: the local stack gives every handler module one shared test clock."""
    campaign_close: datetime
    backoff: Backoff
    snapshots: SnapshotCache
    hold_ttl_seconds: int = 900
    """A hold's ``ttl_seconds`` when the gateway names none (the deploy's ``HOLD_TTL_SECONDS``)."""
    reversal_window: timedelta = timedelta(days=7)
    """How long after its ``recorded_at`` a usage may be reversed (``REVERSAL_WINDOW_DAYS``)."""
    alert_thresholds: tuple[int, ...] = (80, 95)
    """TrialBalanceLow thresholds of accounts that set none (the deploy's ``BALANCE_LOW_THRESHOLDS``)."""

    def now_text(self) -> str:
        return format_timestamp(self.clock.now())

    def campaign_open(self, now: datetime) -> bool:
        """R4: claims of either kind succeed only before the campaign closes."""
        return now < self.campaign_close

    def read_grant(self, account_id: str, model_id: str) -> tuple[ProfileState, GrantState | None]:
        """The profile and the grant, read consistently, and remembered as this container's snapshots."""
        profile, grants = self.store.read_account(account_id, [model_id])
        grant = grants.get(model_id)
        self.snapshots.remember_profile(profile)
        self.snapshots.remember_grant(account_id, model_id, grant)
        return profile, grant

    def read_for_call(
        self, account_id: str, model_id: str, request_id: str
    ) -> tuple[ProfileState, GrantState | None, CallRecord | None]:
        """The profile, the grant and what the request_id names, in one consistent read;
        the profile and grant remembered as this container's snapshots."""
        profile, grant, call = self.store.read_call(account_id, model_id, request_id)
        self.snapshots.remember_profile(profile)
        self.snapshots.remember_grant(account_id, model_id, grant)
        return profile, grant, call

    def model(self, account_id: str, model_id: str, sub_account_id: str | None) -> ModelSpec:
        """The catalog entry a gateway call names, once its ids are valid."""
        require_id(account_id, "account_id")
        require_id(model_id, "model_id")
        if sub_account_id is not None:
            require_id(sub_account_id, "sub_account_id")
        spec = self.catalog.get(model_id)
        if spec is None:
            raise UnknownModel(model_id)
        return spec
