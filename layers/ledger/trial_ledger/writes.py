"""The conditional writes the ledger asks of the store, as plain values."""

from __future__ import annotations

from dataclasses import dataclass

from .state import GrantState, UsageRecord


@dataclass(frozen=True, slots=True)
class NewGrant:
    """A grant to create, once (R1): refused if any grant of its account and model exists."""

    state: GrantState
    claimed_by: str | None


@dataclass(frozen=True, slots=True)
class GrantDraw:
    """Take ``free`` units from a grant whose remainder is exactly ``expected_remaining`` now.

    Remainders only ever shrink, so the exact match is a version check: it fails when anything
    touched the grant since it was read, and then the failure carries the grant as it is.
    With ``exact=False`` (used under contention) the condition is only ``remaining >= free``:
    it cannot lose a race to a writer that leaves enough, but the new remainder is unknown."""

    model_id: str
    expected_remaining: int
    free: int
    now: str
    exact: bool = True

    @property
    def left(self) -> int:
        """The remainder after an exact draw."""
        return self.expected_remaining - self.free


@dataclass(frozen=True, slots=True)
class UsageCommit:
    """One usage record and what it changes, written in one transaction or not at all."""

    usage: UsageRecord
    draw: GrantDraw | None = None
    new_grant: NewGrant | None = None
    expect_no_grant: bool = False
    """Free units were refused because no grant exists (campaign closed): prove it still doesn't."""
    expect_postpaid: bool | None = None
    """The split of the non-free part assumed this postpaid switch: prove it still holds."""
