"""What ledger operations return: plain, immutable values with no storage or HTTP detail."""

from __future__ import annotations

from dataclasses import dataclass
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


class AlertsSource(StrEnum):
    ACCOUNT = "account"
    """Set by the account (PUT /v1/account/alerts)."""
    DEFAULT = "default"
    """The deploy's ``BalanceLowThresholds``."""
