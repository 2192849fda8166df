"""What the usage, batch and hold plans share.

The circumstances of an attempt, the timed-out entries a write clears, and the grant a draw leaves."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from ..state import GrantState, HeldEntry
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
"""Timed-out entries one exact write removes; any beyond count as reserved until a later write."""


def dead_to_clear(
    grant: GrantState, now: str, keep: HeldEntry | None = None, first: str | None = None
) -> tuple[tuple[HeldEntry, ...], int]:
    """The timed-out entries an exact write removes (and proves still there), and the units of
    those it leaves for a later write, which the plan keeps counting as reserved. The entry of
    request ``first`` comes first: a draw of that request must clear it (its proof of no hold
    would fail on it forever)."""
    dead = sorted((entry for entry in grant.dead_entries(now) if entry != keep), key=lambda e: e.request_id != first)
    if grant.is_past_expiry(now):
        return (), 0
    return tuple(dead[:MAX_CLEARS_PER_WRITE]), sum(entry.units for entry in dead[MAX_CLEARS_PER_WRITE:])


def after_draw(grant: GrantState, draw: GrantDraw) -> GrantState:
    """The grant as ``draw`` leaves it."""
    gone = {entry.request_id for entry in (*draw.clears, *draw.settles)}
    holds = tuple(entry for entry in grant.holds if entry.request_id not in gone)
    holds += (draw.adds,) if draw.adds else ()
    return replace(grant, used=grant.used + draw.free, remaining=grant.remaining - draw.free, holds=holds)
