"""What the usage, batch and hold plans share.

The circumstances of an attempt, the timed-out periods a write clears, and the grant a draw leaves."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from ..state import GrantState, HeldPeriod
from ..writes import GrantDraw


@dataclass(frozen=True, slots=True)
class Attempt:
    """The circumstances of one attempt to commit a usage."""

    now: datetime
    campaign_open: bool
    relaxed: bool
    """Draws the remainder fully covers no longer insist on the exact remainder (contention)."""
    write_id: str


MAX_CLEARS_PER_WRITE = 25
"""Timed-out periods one write removes; any beyond count as reserved until a later write. A write
that opens a new period clears too, so a grant keeps its live periods (61 at most) and the few
dead ones a write has not reached yet: about 63 entries, however long it lives."""


def dead_to_clear(grant: GrantState, now: str) -> tuple[tuple[HeldPeriod, ...], int]:
    """The timed-out periods a write removes (and proves unchanged), and the units of those it
    leaves for a later write, which the plan keeps counting as reserved. The periods that hold the
    most units go first (oldest first among equals): the sweep empties the oldest first, and a write
    that removed 25 emptied periods while newer ones still counted would refuse free units."""
    if grant.is_past_expiry(now):
        return (), 0
    dead = sorted(grant.dead_periods(now), key=lambda period: (-period.units, period.until))
    return tuple(dead[:MAX_CLEARS_PER_WRITE]), sum(period.units for period in dead[MAX_CLEARS_PER_WRITE:])


def after_draw(grant: GrantState, draw: GrantDraw) -> GrantState:
    """The grant as ``draw`` leaves it."""
    units = {period.until: period.units for period in grant.holds}
    for period in draw.releases:
        units[period.until] = units.get(period.until, 0) - period.units  # a stale snapshot may lack it
    for period in draw.clears:
        del units[period.until]  # a dead period of this very snapshot (dead_to_clear)
    if draw.adds is not None:
        units[draw.adds.until] = units.get(draw.adds.until, 0) + draw.adds.units
    holds = tuple(HeldPeriod(until, held) for until, held in sorted(units.items()))
    return replace(grant, used=grant.used + draw.free, remaining=grant.remaining - draw.free, holds=holds,
                   entries=grant.entries + draw.entries)  # fmt: skip


def released(periods: tuple[HeldPeriod, ...]) -> tuple[HeldPeriod, ...]:
    """Releases of several settles as one entry per period."""
    units: dict[str, int] = {}
    for period in periods:
        units[period.until] = units.get(period.until, 0) + period.units
    return tuple(HeldPeriod(until, held) for until, held in sorted(units.items()))
