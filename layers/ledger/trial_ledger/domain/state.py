"""What the ledger knows of stored items, as plain immutable values (no DynamoDB types)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from ..results import Account, ClaimMethod, FundingSource, HoldResult, HoldStatus, UsageResult

GrantKey = tuple[str, str]
"""A grant's identity: ``(account_id, model_id)``."""


@dataclass(frozen=True, slots=True)
class ProfileState:
    account_id: str
    activated_at: str | None
    postpaid_enabled: bool

    @classmethod
    def absent(cls, account_id: str) -> ProfileState:
        """The profile of an account that never activated nor switched anything."""
        return cls(account_id, None, False)

    def account(self) -> Account:
        return Account(self.account_id, self.activated_at, self.postpaid_enabled)


@dataclass(frozen=True, slots=True)
class HeldEntry:
    """One hold's reservation on its grant: ``units`` reserved until ``until`` (exclusive)."""

    request_id: str
    units: int
    until: str

    def is_live(self, now: str) -> bool:
        """A hold reserves from its creation to its ``until`` instant, job or no job (R15)."""
        return now < self.until


@dataclass(frozen=True, slots=True)
class GrantState:
    """A grant as stored: the claim snapshot plus its running balances and its holds' entries."""

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
    holds: tuple[HeldEntry, ...] = ()
    """The entries of ``held_units``/``held_until``: live and timed-out ones until removed."""

    @property
    def held_total(self) -> int:
        """The stored ``held_total``: every entry's units, timed out or not."""
        return sum(entry.units for entry in self.holds)

    @property
    def unreserved(self) -> int:
        """The stored ``unreserved``: what no entry, live or dead, reserves."""
        return self.remaining - self.held_total

    def entry(self, request_id: str) -> HeldEntry | None:
        return next((entry for entry in self.holds if entry.request_id == request_id), None)

    def live_entry(self, request_id: str, now: str) -> HeldEntry | None:
        entry = self.entry(request_id)
        return entry if entry is not None and entry.is_live(now) else None

    def dead_entries(self, now: str) -> tuple[HeldEntry, ...]:
        return tuple(entry for entry in self.holds if not entry.is_live(now))

    def held(self, now: str, except_request: str | None = None) -> int:
        """Units the live holds reserve at ``now`` (R16: ``0 <= held <= remaining``)."""
        if self.is_past_expiry(now):
            return 0
        return sum(e.units for e in self.holds if e.is_live(now) and e.request_id != except_request)

    def available(self, now: str, except_request: str | None = None) -> int:
        """Free units no live hold of another request reserves (R13): ``free_remaining``."""
        return self.usable_remaining(now) - self.held(now, except_request)

    def is_past_expiry(self, now: str) -> bool:
        return now >= self.expires_at

    def usable_remaining(self, now: str) -> int:
        """Free units that may still be drawn at ``now`` (R5: none from ``expires_at`` on)."""
        return 0 if self.is_past_expiry(now) else self.remaining


@dataclass(frozen=True, slots=True)
class UsageRecord:
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

    def result(self, replayed: bool) -> UsageResult:
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
        )


@dataclass(frozen=True, slots=True)
class ExpiryCandidate:
    """A grant as the expiry index projects it: enough to guess its remainder and expire it."""

    account_id: str
    model_id: str
    quota: int
    expires_at: str


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

    def effective_status(self, now: str) -> HoldStatus:
        """An open hold past its ``expires_at`` has ended, whether or not the sweep ran (R15)."""
        if self.status is HoldStatus.OPEN and now >= self.expires_at:
            return HoldStatus.EXPIRED
        return self.status

    def result(self, replayed: bool, free_available: int | None = None) -> HoldResult:
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
class OpenHold:
    """An open hold as the open-holds index projects it: enough to close it at its timeout."""

    request_id: str
    account_id: str
    model_id: str
    held: int
    expires_at: str
