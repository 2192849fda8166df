"""What the use cases share to write under contention.

What a call knows of its grant and profile, corrected by each refused attempt, and when an exact
write gives way to a relaxed one."""

from __future__ import annotations

from dataclasses import dataclass

from ..domain.refusals import Outdated
from ..domain.state import GrantState, HoldRecord, ProfileState

EXACT_TRIES_UNDER_CONTENTION = 2
"""Exact draws that may lose a race before a draw settles for ``unreserved`` covering it (relaxed)."""


@dataclass(slots=True)
class Known:
    """What one call knows of its grant, profile and own item (the hold its request_id holds),
    corrected by each refused attempt."""

    grant: GrantState | None
    grant_known: bool
    profile: ProfileState | None
    hold: HoldRecord | None = None
    """The request's hold, as last seen (None: its item is believed absent)."""
    lost_races: int = 0

    def learn(self, refusal: Outdated) -> None:
        if refusal.grant_changed:
            # The refusal carries the grant as it is, unless it came from a bare check.
            self.grant, self.grant_known = refusal.grant, refusal.grant is not None
            self.lost_races += 1
        if refusal.postpaid_changed:
            self.profile = None  # a check returns no item: read it again
        if refusal.call_changed:
            self.hold = refusal.hold
