"""What the ledger knows of stored items, as plain immutable values (no DynamoDB types)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from .views import Account, ClaimMethod, UsageResult


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
class GrantState:
    """A grant as stored: the claim snapshot plus its running balances."""

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
