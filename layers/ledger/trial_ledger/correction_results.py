"""What the grant's ledger and its corrections return (R17 to R19): plain, immutable values."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from .console_results import Account, UsagePage
from .results import Grant


class EntryKind(StrEnum):
    """What a grant ledger entry records (R19)."""

    CLAIM = "claim"
    USAGE = "usage"
    REVERSAL = "reversal"
    EXPIRY = "expiry"
    EXTENSION = "extension"
    VOID = "void"


@dataclass(frozen=True, slots=True)
class Balances:
    used: int
    remaining: int
    expired: int


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """One entry of a grant's ledger (R19): ``balances`` after it, ``delta`` = those less the ones before."""

    sequence: int
    kind: EntryKind
    at: str
    request_id: str | None
    action_id: str | None
    actor: str | None
    reason: str | None
    delta: Balances
    balances: Balances


@dataclass(frozen=True, slots=True)
class LedgerPage:
    entries: list[LedgerEntry]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class ReversalResult:
    """A usage reversed (R17): its free units returned or expired, its billable part credited."""

    request_id: str
    reversed_at: str
    free_returned: int
    free_expired: int
    currency: str
    billable_credited: Decimal
    replayed: bool


@dataclass(frozen=True, slots=True)
class ActionAsk:
    """An operator's request on one grant (R18), as the operator tool sends it."""

    action_id: str
    """The operator tool's idempotency key (the rules of ``request_id``)."""
    account_id: str
    model_id: str
    actor: str
    reason: str


@dataclass(frozen=True, slots=True)
class ActionResult:
    """An operator action on a grant (R18), as it was first recorded."""

    action_id: str
    kind: EntryKind
    account_id: str
    model_id: str
    actor: str
    reason: str
    acted_at: str
    sequence: int
    """The grant ledger entry it is (R19)."""
    previous_expires_at: str
    expires_at: str
    expired_quantity: int
    """A void: the remainder it recorded as expired (0 for an extension)."""
    replayed: bool


@dataclass(frozen=True, slots=True)
class SupportView:
    """What support sees of one account (R18): the profile, the grants and the newest usage."""

    account: Account
    grants: list[Grant]
    usage: UsagePage
