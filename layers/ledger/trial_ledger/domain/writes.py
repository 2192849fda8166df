"""The conditional writes the ledger asks of the store, as plain values."""

from __future__ import annotations

from dataclasses import dataclass

from .state import GrantState, HeldEntry, HoldRecord, UsageRecord


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
    With ``exact=False`` (used under contention) the condition is only that ``unreserved`` covers
    what the draw takes beyond its own hold: it cannot lose a race to a writer that leaves enough,
    but the new remainder is unknown."""

    model_id: str
    expected_remaining: int
    free: int
    now: str
    exact: bool = True
    expected_held: int = 0
    """``held_total`` as the exact write insists on it (holds move it, never ``remaining``)."""
    unheld: tuple[str, ...] = ()
    """The requests drawing without a hold: each proves no hold of it appeared meanwhile."""
    settles: tuple[HeldEntry, ...] = ()
    """The drawing requests' own live holds, settled by this draw: removed, unused units return."""
    clears: tuple[HeldEntry, ...] = ()
    """Timed-out entries the plan counted as free: removed, and proven still there (ABA)."""
    adds: HeldEntry | None = None
    """A new hold's entry."""

    @property
    def left(self) -> int:
        """The remainder after an exact draw."""
        return self.expected_remaining - self.free

    @property
    def held_change(self) -> int:
        """How ``held_total`` moves."""
        added = self.adds.units if self.adds else 0
        settled = sum(entry.units for entry in self.settles)
        return added - settled - sum(entry.units for entry in self.clears)

    @property
    def held_after(self) -> int:
        """``held_total`` after an exact draw."""
        return self.expected_held + self.held_change


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
    settles_hold: str | None = None
    """The request_id of the open hold item this usage settles (``open`` -> ``settled``)."""


@dataclass(frozen=True, slots=True)
class GrantRun:
    """Consecutive usages of one grant, with the one write of the grant they make together."""

    account_id: str
    model_id: str
    usages: tuple[UsageRecord, ...]
    draw: GrantDraw | None = None
    new_grant: NewGrant | None = None
    expect_no_grant: bool = False
    settles_holds: tuple[str, ...] = ()
    """The request_ids of the open hold items these usages settle."""
    expect_postpaid: bool | None = None
    """Some usage split a non-free part by this postpaid switch: prove it still holds."""

    @property
    def items(self) -> int:
        """The transaction items this run takes."""
        grant_write = self.draw is not None or self.new_grant is not None or self.expect_no_grant
        return len(self.usages) + len(self.settles_holds) + int(grant_write)


@dataclass(frozen=True, slots=True)
class BatchCommit:
    """Runs of several grants written in one transaction or not at all (at most one run a grant)."""

    runs: tuple[GrantRun, ...]

    @property
    def postpaid_checks(self) -> dict[str, bool]:
        """One check of the postpaid switch per account whose runs assumed it."""
        return {run.account_id: run.expect_postpaid for run in self.runs if run.expect_postpaid is not None}


@dataclass(frozen=True, slots=True)
class HoldCommit:
    """One hold and its reservation, written in one transaction or not at all."""

    hold: HoldRecord
    draw: GrantDraw | None = None
    new_grant: NewGrant | None = None
    expect_postpaid: bool | None = None
    """A hold of 0 units funded by postpaid: prove the switch is still on."""


@dataclass(frozen=True, slots=True)
class HoldClosing:
    """End an open hold (release or timeout) and return its units to its grant."""

    request_id: str
    account_id: str
    model_id: str
    held: int
    status: str
    now: str
    due_by: str | None = None
    """A timeout: the hold's ``expires_at`` must be at or before this instant."""
