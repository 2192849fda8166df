"""What the ledger knows of stored items, as plain immutable values (no DynamoDB types)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from ..results import AlertsSource, ClaimMethod, FundingSource, HoldStatus
from .hold_periods import period_of

if TYPE_CHECKING:
    from ..console_results import Account
    from ..gateway_results import HoldResult, UsageResult

# The console's and the gateway's values are imported where they are built (account(), result()):
# neither API function imports the other's at its cold start (docs/performance.md, "Handler init").
# ruff: noqa: PLC0415

GrantKey = tuple[str, str]
"""A grant's identity: ``(account_id, model_id)``."""


@dataclass(frozen=True, slots=True)
class ProfileState:
    """An account's profile as stored: activation, the postpaid switch, its own alert thresholds."""

    account_id: str
    activated_at: str | None
    postpaid_enabled: bool
    revivals: int = 0
    """Reversals that gave units back to an exhausted grant of the account (R17). A usage that
    found its grant exhausted proves this count with its postpaid check, so that a stale
    "exhausted" never bills units a reversal returned (docs/ledger.md)."""
    balance_low_percent: tuple[int, ...] | None = None
    """The account's own TrialBalanceLow thresholds (R20), ascending; None: the deploy's."""
    grants_claimed: int | None = None
    """Grants created since it was first counted: a version that changes with every claim, so
    that an alerts change proves it knows every grant of the account (None: none counted)."""

    @classmethod
    def absent(cls, account_id: str) -> ProfileState:
        """The profile of an account that never activated nor switched anything."""
        return cls(account_id, None, False)

    def account(self, default_thresholds: tuple[int, ...]) -> Account:
        """The account as the console reads it; ``default_thresholds`` stand when it set none."""
        from ..console_results import Account, Alerts

        own = self.balance_low_percent
        if own is None:
            return Account(self.account_id, self.activated_at, self.postpaid_enabled,
                           Alerts(default_thresholds, AlertsSource.DEFAULT))  # fmt: skip
        return Account(self.account_id, self.activated_at, self.postpaid_enabled, Alerts(own, AlertsSource.ACCOUNT))


@dataclass(frozen=True, slots=True, order=True)
class HeldPeriod:
    """What the holds ending at ``until`` reserve together on their grant, until that instant
    (exclusive): a period boundary (see hold_periods.py)."""

    until: str
    units: int

    def is_live(self, now: str) -> bool:
        """A hold reserves from its creation to its ``until`` instant, job or no job (R15)."""
        return now < self.until


@dataclass(frozen=True, slots=True)
class GrantState:
    """A grant as stored: the claim snapshot, its running balances, and what its holds reserve
    per hold period (never one entry per hold: the item stays bounded, R13a)."""

    account_id: str
    model_id: str
    unit: str
    quota: int
    used: int
    remaining: int
    expired: int
    claim_method: ClaimMethod
    claimed_at: str
    expires_at: str
    holds: tuple[HeldPeriod, ...] = ()
    """The periods of ``held_units``, soonest first: live and timed-out ones until removed."""
    entries: int = 1
    """The sequence number of the grant's last ledger entry (R19): the claim is entry 1, and every
    write that moves a balance adds the next one, proving this count."""

    peak_used: int = 0
    """The highest ``used`` before a reversal lowered it (0: never lowered): the balance events
    are once per grant, so a usage that only climbs back does not publish them again (R17)."""

    def stamp(self) -> LedgerStamp:
        """Its last ledger entry as this state stands: the sequence number and the balances."""
        return LedgerStamp(self.entries, self.used, self.remaining, self.expired)

    voided_at: str | None = None
    """When an operator voided it (R18): unusable from then on, as an expired grant is."""
    alert_thresholds: tuple[int, ...] | None = None
    """The account's TrialBalanceLow thresholds as they were when this grant was claimed or last
    set by an alerts change (R20); None: the deploy's. The events function reads them here."""

    @property
    def held_total(self) -> int:
        """The stored ``held_total``: every period's units, timed out or not."""
        return sum(period.units for period in self.holds)

    @property
    def unreserved(self) -> int:
        """The stored ``unreserved``: what no period, live or dead, reserves."""
        return self.remaining - self.held_total

    def period(self, until: str) -> HeldPeriod | None:
        return next((period for period in self.holds if period.until == until), None)

    def dead_periods(self, now: str) -> tuple[HeldPeriod, ...]:
        return tuple(period for period in self.holds if not period.is_live(now))

    def held(self, now: str) -> int:
        """Units the live holds reserve at ``now`` (R16: ``0 <= held <= remaining``)."""
        if self.is_past_expiry(now) or self.voided_at is not None:
            return 0
        return sum(period.units for period in self.holds if period.is_live(now))

    def available(self, now: str) -> int:
        """Free units no live hold reserves (R13): ``free_remaining``."""
        return self.usable_remaining(now) - self.held(now)

    def is_past_expiry(self, now: str) -> bool:
        return now >= self.expires_at

    def usable_remaining(self, now: str) -> int:
        """Free units that may still be drawn at ``now`` (R5: none from ``expires_at`` on; R18:
        none once voided)."""
        return 0 if self.is_past_expiry(now) or self.voided_at is not None else self.remaining

    def is_usable(self, now: str) -> bool:
        """Neither past its validity nor voided: units given back go to ``remaining``."""
        return not self.is_past_expiry(now) and self.voided_at is None

    def voided_hold(self, hold: HoldRecord) -> bool:
        """Whether ``hold`` was live, holding units, when the grant was voided: it ended ``voided``."""
        voided = self.voided_at
        return voided is not None and hold.held > 0 and hold.created_at <= voided < hold.expires_at


@dataclass(frozen=True, slots=True)
class LedgerStamp:
    """An entry's place in its grant's ledger (R19): its sequence number and the grant's balances
    after it."""

    sequence: int
    used: int
    remaining: int
    expired: int


@dataclass(frozen=True, slots=True)
class Reversal:
    """How a usage was reversed (R17): once, for a reason, its free units returned or expired."""

    reversed_at: str
    reason: str
    free_returned: int
    free_expired: int


@dataclass(frozen=True, slots=True)
class UsageRecord:
    """A usage record as stored, on its request's call item: written once, never changed."""

    request_id: str
    account_id: str
    model_id: str
    sub_account_id: str | None
    quantity: int
    free: int
    billable: int
    unbilled_overage: int
    currency: str
    unit_price: str
    charge: str
    free_remaining: int | None
    """Exact when the write knew the grant's remainder; None until settled after a contended
    write (see ``LedgerStore.settle_free_remaining``)."""
    auto_claimed: bool
    recorded_at: str
    fingerprint: str
    write_id: str
    """Unique per write attempt: tells this call's own write (landed by a retry after a lost
    response) from an earlier call's record."""
    entry: LedgerStamp | None = None
    """Its grant ledger entry: a usage that drew free units is one (R19), one that drew none is not."""
    reversal: Reversal | None = None

    def result(self, replayed: bool) -> UsageResult:
        from ..gateway_results import UsageResult

        return UsageResult(
            request_id=self.request_id,
            account_id=self.account_id,
            model_id=self.model_id,
            sub_account_id=self.sub_account_id,
            quantity=self.quantity,
            free=self.free,
            billable=self.billable,
            unbilled_overage=self.unbilled_overage,
            currency=self.currency,
            charge=Decimal(self.charge),
            free_remaining=self.free_remaining,
            auto_claimed=self.auto_claimed,
            recorded_at=self.recorded_at,
            replayed=replayed,
            reversed_at=self.reversal.reversed_at if self.reversal else None,
        )


@dataclass(frozen=True, slots=True)
class HoldRecord:
    """A hold as stored (its item ``HOLD#<request_id>``)."""

    request_id: str
    account_id: str
    model_id: str
    sub_account_id: str | None
    estimate: int
    held: int
    source: FundingSource
    free_available: int | None
    """Exact when the write knew the grant; None until settled after a contended write."""
    auto_claimed: bool
    created_at: str
    expires_at: str
    ttl_seconds: int
    status: HoldStatus
    closed_at: str | None
    fingerprint: str
    write_id: str

    @property
    def period(self) -> str:
        """The period of its grant's ``held_units`` its units count in."""
        return period_of(self.expires_at)

    def effective_status(self, now: str) -> HoldStatus:
        """An open hold past its ``expires_at`` has ended, whether or not the sweep ran (R15)."""
        if self.status is HoldStatus.OPEN and now >= self.expires_at:
            return HoldStatus.EXPIRED
        return self.status

    def reserves(self, now: str) -> bool:
        """Open, live, and holding units on its grant: a usage of its request settles it (R14)."""
        return self.held > 0 and self.effective_status(now) is HoldStatus.OPEN

    def names_another_call(self, account_id: str, model_id: str) -> bool:
        """A request_id names one call (v3.2): a usage of another account or model conflicts."""
        return (self.account_id, self.model_id) != (account_id, model_id)

    def result(self, replayed: bool, free_available: int | None = None) -> HoldResult:
        from ..gateway_results import HoldResult

        available = self.free_available if free_available is None else free_available
        return HoldResult(
            request_id=self.request_id,
            account_id=self.account_id,
            model_id=self.model_id,
            estimate=self.estimate,
            held=self.held,
            source=self.source,
            free_available=available or 0,
            expires_at=self.expires_at,
            auto_claimed=self.auto_claimed,
            replayed=replayed,
        )


@dataclass(frozen=True, slots=True)
class CallRecord:
    """What one ``request_id`` names, stored as one item: the call's hold, its usage, or both (a
    settled hold, or a usage after its hold ended)."""

    hold: HoldRecord | None
    usage: UsageRecord | None
