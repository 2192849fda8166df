"""What ledger operations return: plain, immutable values with no storage or HTTP detail."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum


class GrantStatus(StrEnum):
    ACTIVE = "active"
    EXHAUSTED = "exhausted"
    EXPIRED = "expired"
    VOIDED = "voided"
    """An operator ended the grant (R18): its remainder was recorded as expired."""


class ClaimMethod(StrEnum):
    MANUAL = "manual"
    AUTO = "auto"


class ClaimOutcomeKind(StrEnum):
    CLAIMED = "claimed"
    ALREADY_CLAIMED = "already_claimed"
    NOT_ELIGIBLE = "not_eligible"
    UNKNOWN_MODEL = "unknown_model"
    CAMPAIGN_ENDED = "campaign_ended"


class StopReason(StrEnum):
    EXHAUSTED = "free_quota_exhausted"
    EXPIRED = "free_quota_expired"
    NO_FREE_QUOTA = "no_free_quota"
    HELD = "free_quota_held"
    """Free units remain but live holds of other requests reserve all of them (R13): retryable."""
    VOIDED = "free_quota_voided"
    """An operator voided the grant (R18)."""


class HoldStatus(StrEnum):
    OPEN = "open"
    SETTLED = "settled"
    RELEASED = "released"
    EXPIRED = "expired"
    VOIDED = "voided"
    """Its grant was voided while it was live (R18)."""


class FundingSource(StrEnum):
    FREE = "free"
    POSTPAID = "postpaid"


@dataclass(frozen=True, slots=True)
class Grant:
    """A grant in its effective state at the instant it was read (R5): past ``expires_at`` it
    reads ``expired`` with ``remaining == 0`` even before the nightly job records the expiry."""

    account_id: str
    model_id: str
    unit: str
    quota: int
    used: int
    remaining: int
    expired: int
    status: GrantStatus
    claim_method: ClaimMethod
    claimed_at: str
    expires_at: str
    held: int = 0
    """Units live holds reserve now (R16: ``0 <= held <= remaining``)."""


@dataclass(frozen=True, slots=True)
class Account:
    """The account as the console reads it (`GET /v1/account`)."""

    account_id: str
    activated_at: str | None
    postpaid_enabled: bool
    alerts: Alerts | None = None
    """The thresholds of the account's TrialBalanceLow events (R20)."""


class AlertsSource(StrEnum):
    ACCOUNT = "account"
    """Set by the account (PUT /v1/account/alerts)."""
    DEFAULT = "default"
    """The deploy's ``BalanceLowThresholds``."""


@dataclass(frozen=True, slots=True)
class Alerts:
    """The account's TrialBalanceLow thresholds and whether they are its own or the deploy's (R20)."""

    balance_low_percent: tuple[int, ...]
    source: AlertsSource


@dataclass(frozen=True, slots=True)
class ClaimOutcome:
    """What a manual claim did for one model (R2), with the grant it claimed or found."""

    model_id: str
    outcome: ClaimOutcomeKind
    grant: Grant | None


@dataclass(frozen=True, slots=True)
class ClaimAvailability:
    """Whether the account could claim the model now, for the gallery."""

    claimable: bool
    reason: str | None


@dataclass(frozen=True, slots=True)
class Authorization:
    """An admission before an invocation (`POST /v1/authorizations`): allowed, and paid how."""

    allowed: bool
    source: FundingSource
    free_remaining: int
    auto_claimed: bool


@dataclass(frozen=True, slots=True)
class UsageResult:
    """One recorded usage as the gateway gets it back: its free, billable and unbilled parts (R6)."""

    request_id: str
    account_id: str
    model_id: str
    sub_account_id: str | None
    quantity: int
    free: int
    billable: int
    unbilled_overage: int
    currency: str
    charge: Decimal
    free_remaining: int | None
    """After this usage; always known in a recording's answer, None in a listing while a
    contended write has not settled it yet."""
    auto_claimed: bool
    recorded_at: str
    replayed: bool
    reversed_at: str | None = None
    """When the usage was reversed (R17); None while it stands."""

    @property
    def reversed(self) -> bool:
        return self.reversed_at is not None


@dataclass(frozen=True, slots=True)
class UsageAsk:
    """One usage as the gateway reports it (one record of a batch); validated by the ledger."""

    account_id: str
    model_id: str
    quantity: int
    request_id: str
    sub_account_id: str | None = None


@dataclass(frozen=True, slots=True)
class RecordRefusal:
    """A record of a batch that was not recorded: ``code`` is the contract's (``unknown_model``,
    ``request_id_conflict``, ``validation_error``)."""

    request_id: str | None
    code: str
    detail: str


RecordOutcome = UsageResult | RecordRefusal
"""What one record of a batch gets: its usage result, or why it was refused."""


@dataclass(frozen=True, slots=True)
class UsagePage:
    """A page of an account's usage records, newest first, and where the next page starts."""

    items: list[UsageResult]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class HoldAsk:
    """A hold as the gateway asks for it (R13); validated by the ledger."""

    account_id: str
    model_id: str
    request_id: str
    estimate: int
    sub_account_id: str | None = None
    ttl_seconds: int | None = None
    """None: the deploy's default (``HOLD_TTL_SECONDS``)."""


@dataclass(frozen=True, slots=True)
class HoldResult:
    """A hold as the gateway gets it back (R13): what it reserved, until when."""

    request_id: str
    account_id: str
    model_id: str
    estimate: int
    held: int
    source: FundingSource
    free_available: int
    """What is left for other requests after this hold."""
    expires_at: str
    auto_claimed: bool
    replayed: bool


@dataclass(frozen=True, slots=True)
class ReleaseResult:
    """The end of a hold asked for by its release (R15)."""

    request_id: str
    status: HoldStatus
    """``released`` by this call, or how the hold had already ended."""
