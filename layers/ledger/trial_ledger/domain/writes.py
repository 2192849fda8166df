"""The conditional writes the ledger asks of the store, as plain values."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .hold_periods import period_of
from .state import GrantState, HeldPeriod, HoldRecord, UsageRecord


@dataclass(frozen=True, slots=True)
class NewGrant:
    """A grant to create, once (R1): refused if any grant of its account and model exists."""

    state: GrantState
    claimed_by: str | None


@dataclass(frozen=True, slots=True)
class ProfileProof:
    """What one write needs of an account's profile, proven in the same transaction: the
    activation (a manual claim), the postpaid switch a split assumed, and, when it creates grants,
    that the profile's alert thresholds are the ones the new grants copy (R20: a claim that read a
    stale profile is refused); the write then adds its grants to ``grants_claimed``."""

    account_id: str
    claims: int = 0
    alert_thresholds: tuple[int, ...] | None = None
    require_activation: bool = False
    expect_postpaid: bool | None = None
    revivals: int = 0
    """With the postpaid switch: the profile's ``revivals`` the plan read (see ProfileState)."""

    @property
    def needed(self) -> bool:
        return self.claims > 0 or self.require_activation or self.expect_postpaid is not None


def profile_proof(
    account_id: str,
    grants: Sequence[NewGrant],
    expect_postpaid: bool | None = None,
    require_activation: bool = False,
    revivals: int = 0,
) -> ProfileProof:
    """The proof of a write creating ``grants`` (all copied from one profile) of one account."""
    thresholds = {grant.state.alert_thresholds for grant in grants}
    if len(thresholds) > 1:
        raise ValueError("the grants of one write copy one profile's alert thresholds")
    return ProfileProof(account_id, len(grants), next(iter(thresholds), None), require_activation, expect_postpaid,
                        revivals)  # fmt: skip


@dataclass(frozen=True, slots=True)
class AlertsChange:
    """Set an account's alert thresholds (R20) on its profile and on every grant it has, knowing
    every grant: the profile's ``grants_claimed`` must still be ``expected_grants_claimed``."""

    account_id: str
    thresholds: tuple[int, ...]
    model_ids: tuple[str, ...]
    expected_grants_claimed: int | None
    now: str


@dataclass(frozen=True, slots=True)
class GrantDraw:
    """Take ``free`` units from a grant whose remainder is exactly ``expected_remaining`` now.

    Remainders only ever shrink, so the exact match is a version check: it fails when anything
    touched the grant since it was read, and then the failure carries the grant as it is.
    With ``exact=False`` (used under contention) the condition is only that ``unreserved`` covers
    what the draw takes beyond the holds it settles: it cannot lose a race to a writer that leaves
    enough, but the new remainder is unknown. Hold periods move by relative amounts, each proven:
    a period a settle returns units to still holds them, a cleared period still holds its value."""

    model_id: str
    expected_remaining: int
    free: int
    now: str
    exact: bool = True
    expected_held: int = 0
    """``held_total`` as the exact write insists on it (holds move it, never ``remaining``)."""
    releases: tuple[HeldPeriod, ...] = ()
    """Units the settled holds give back, per period (one entry a period)."""
    clears: tuple[HeldPeriod, ...] = ()
    """Timed-out periods the plan counted as free: removed, and proven unchanged."""
    adds: HeldPeriod | None = None
    """A new hold's units, added to its period."""
    entries: int = 0
    """Ledger entries the draw adds (R19): one per usage that draws free units. A draw that adds
    any proves the grant's ``entries`` is ``expected_entries``: the sequence numbers it stamps
    follow the grant's last one, with no gap and no repeat, and so do the balances."""
    expected_entries: int = 1

    @property
    def left(self) -> int:
        """The remainder after an exact draw."""
        return self.expected_remaining - self.free

    @property
    def held_change(self) -> int:
        """How ``held_total`` moves."""
        added = self.adds.units if self.adds else 0
        return added - sum(period.units for period in (*self.releases, *self.clears))

    @property
    def held_after(self) -> int:
        """``held_total`` after an exact draw."""
        return self.expected_held + self.held_change


@dataclass(frozen=True, slots=True)
class CallWrite:
    """One usage written onto its request's item: a new item, or the item of the request's hold
    (a hold of this account and model, settled by the usage when it is live)."""

    usage: UsageRecord
    hold: HoldRecord | None = None
    """The hold the call item holds; the write proves it is still as read."""
    settles: bool = False
    """The hold was live at the plan's instant: it ends ``settled`` with this usage (R14)."""
    voided: bool = False
    """The hold was live when its grant was voided: it ends ``voided`` (R18), the usage is plain."""


MAX_TRANSACTION_ITEMS = 100
"""TransactWriteItems takes at most 100 items (and never the same item twice)."""
NEW_GRANT_ITEMS = 2
"""A new grant is two items of its write: the grant and its claim's mark (R1's key)."""


def grant_write_items(draws: bool, claims: bool, proves_unclaimed: bool) -> int:
    """The transaction items of a usage write's grant part: a claim's new grant, else one item (a
    draw, or the proof that the model was never claimed), else none."""
    if claims:
        return NEW_GRANT_ITEMS
    return int(draws or proves_unclaimed)


@dataclass(frozen=True, slots=True)
class UsageCommit:
    """One usage record and what it changes, written in one transaction or not at all."""

    call: CallWrite
    draw: GrantDraw | None = None
    new_grant: NewGrant | None = None
    expect_no_grant: bool = False
    """Free units were refused because no grant exists (campaign closed): prove it still doesn't."""
    expect_postpaid: bool | None = None
    """The split of the non-free part assumed this postpaid switch: prove it still holds."""
    expect_revivals: int = 0
    """With the postpaid check: the profile's ``revivals`` the plan read (see ProfileState)."""

    @property
    def usage(self) -> UsageRecord:
        return self.call.usage

    @property
    def profile_proof(self) -> ProfileProof:
        claims = [self.new_grant] if self.new_grant is not None else []
        return profile_proof(self.usage.account_id, claims, self.expect_postpaid, revivals=self.expect_revivals)


@dataclass(frozen=True, slots=True)
class GrantRun:
    """Consecutive usages of one grant, with the one write of the grant they make together."""

    account_id: str
    model_id: str
    calls: tuple[CallWrite, ...]
    draw: GrantDraw | None = None
    new_grant: NewGrant | None = None
    expect_no_grant: bool = False
    expect_postpaid: bool | None = None
    """Some usage split a non-free part by this postpaid switch: prove it still holds."""
    expect_revivals: int = 0

    @property
    def usages(self) -> tuple[UsageRecord, ...]:
        return tuple(call.usage for call in self.calls)

    @property
    def needs_profile(self) -> bool:
        """The run needs its account's profile in the transaction (a split, or a claim)."""
        return self.expect_postpaid is not None or self.new_grant is not None

    @property
    def items(self) -> int:
        """The transaction items this run takes (a settle is its usage's own item)."""
        return len(self.calls) + grant_write_items(self.draw is not None, self.new_grant is not None,
                                                   self.expect_no_grant)  # fmt: skip


@dataclass(frozen=True, slots=True)
class BatchCommit:
    """Runs of several grants written in one transaction or not at all (at most one run a grant)."""

    runs: tuple[GrantRun, ...]

    @property
    def postpaid_checks(self) -> dict[str, bool]:
        """One check of the postpaid switch per account whose runs assumed it."""
        return {run.account_id: run.expect_postpaid for run in self.runs if run.expect_postpaid is not None}

    @property
    def profile_proofs(self) -> list[ProfileProof]:
        """One proof per account whose runs assumed its postpaid switch or claim a grant."""
        accounts = dict.fromkeys(run.account_id for run in self.runs if run.needs_profile)
        proofs = []
        for account_id in accounts:
            runs = [run for run in self.runs if run.account_id == account_id]
            postpaid = next((run.expect_postpaid for run in runs if run.expect_postpaid is not None), None)
            claims = [run.new_grant for run in runs if run.new_grant is not None]
            proofs.append(profile_proof(account_id, claims, postpaid, revivals=runs[0].expect_revivals))
        return proofs


@dataclass(frozen=True, slots=True)
class HoldCommit:
    """One hold and its reservation, written in one transaction or not at all."""

    hold: HoldRecord
    draw: GrantDraw | None = None
    new_grant: NewGrant | None = None
    expect_postpaid: bool | None = None
    """A hold of 0 units funded by postpaid: prove the switch is still on."""
    expect_revivals: int = 0

    @property
    def profile_proof(self) -> ProfileProof:
        claims = [self.new_grant] if self.new_grant is not None else []
        return profile_proof(self.hold.account_id, claims, self.expect_postpaid, revivals=self.expect_revivals)


@dataclass(frozen=True, slots=True)
class HoldClosing:
    """End an open hold and take its units out of its period: at once for a release (the units
    return to the grant), at the sweep for a timeout (its period stopped reserving at
    ``expires_at``; this keeps every period equal to its open holds, R16)."""

    request_id: str
    account_id: str
    model_id: str
    held: int
    expires_at: str
    status: str
    now: str
    due_by: str | None = None
    """A timeout: the hold's ``expires_at`` must be at or before this instant."""

    @property
    def period(self) -> str:
        return period_of(self.expires_at)

    @property
    def with_grant(self) -> bool:
        """A hold of units: its period is part of the write (while the period is there)."""
        return self.held > 0
