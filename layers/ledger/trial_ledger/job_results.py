"""What the nightly jobs return (R5's expiry, the expiring-soon pass, R15's hold sweep).

Plain, immutable values, imported by the expiry function's use cases only."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ExpiryReport:
    as_of: str
    expired_grants: int
    expired_quantity: int
    complete: bool


@dataclass(frozen=True, slots=True)
class ExpiringSoonReport:
    """The nightly run's expiring-soon pass: grants marked now (each is marked once, ever)."""

    as_of: str
    marked_grants: int
    complete: bool


@dataclass(frozen=True, slots=True)
class SweepReport:
    as_of: str
    closed_holds: int
    returned_units: int
    complete: bool
