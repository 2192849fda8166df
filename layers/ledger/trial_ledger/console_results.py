"""What the console's routes return: the account, its claims and their outcomes, a page of usage.

Plain, immutable values; the gateway's are gateway_results.py's, so that neither API function
imports the other's at its cold start."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .results import AlertsSource, ClaimOutcomeKind, Grant

if TYPE_CHECKING:
    from .gateway_results import UsageResult


@dataclass(frozen=True, slots=True)
class Account:
    """The account as the console reads it (`GET /v1/account`)."""

    account_id: str
    activated_at: str | None
    postpaid_enabled: bool
    alerts: Alerts | None = None
    """The thresholds of the account's TrialBalanceLow events (R20)."""


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
class UsagePage:
    """A page of an account's usage records, newest first, and where the next page starts."""

    items: list[UsageResult]
    next_cursor: str | None
