"""What the gateway's routes return and take: admission, usage and its batch, holds.

Plain, immutable values; the console's are console_results.py's, so that neither API function
imports the other's at its cold start."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from .results import FundingSource, HoldStatus


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
