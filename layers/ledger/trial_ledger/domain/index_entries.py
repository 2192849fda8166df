"""What the nightly jobs read of the sparse indexes: a grant due to expire, a hold due to close.

Plain values of the expiry function's path, apart from domain/state.py, which every function imports."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ExpiryCandidate:
    """A grant as the expiry index projects it: enough to guess its remainder and expire it."""

    account_id: str
    model_id: str
    quota: int
    expires_at: str


@dataclass(frozen=True, slots=True)
class OpenHold:
    """An open hold as the open-holds index projects it: enough to close it at its timeout."""

    request_id: str
    account_id: str
    model_id: str
    held: int
    expires_at: str
