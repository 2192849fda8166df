"""Why a conditional write of the store was refused: one type per outcome, with what is there now."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .state import CallRecord, GrantState, HoldRecord, ProfileState, UsageRecord

if TYPE_CHECKING:
    from .planning.actions import ActionRecord


class Refused(Exception):
    """A conditional write was refused and wrote nothing."""


class Contended(Refused):
    """Cancelled by a concurrent transaction or throttled inside one; nothing is learnt: try again."""


class ActivationMissing(Refused):
    """The account is not activated (set_postpaid, or a manual claim's check)."""


class ProfileChanged(Refused):
    """The profile is not as the write assumed: a claim copied other alert thresholds than it
    holds now (R20), or an alerts change missed a grant claimed meanwhile; this is it now."""

    def __init__(self, profile: ProfileState) -> None:
        super().__init__(f"the profile of {profile.account_id!r} changed")
        self.profile = profile


class GrantsExist(Refused):
    """create_grants: these models of the account have a grant already (R1), as it is now."""

    def __init__(self, grants: dict[str, GrantState]) -> None:
        super().__init__(f"already granted: {sorted(grants)}")
        self.grants = grants


class AlreadyRecorded(Refused):
    """commit_usage: the request_id has a usage record already; this is it."""

    def __init__(self, record: UsageRecord) -> None:
        super().__init__(f"request_id {record.request_id!r} is recorded")
        self.record = record


class Outdated(Refused):
    """commit_usage, commit_hold: what the attempt expected of the grant, the postpaid switch or
    the request's own item (a hold appeared on it, or the one read changed) no longer holds."""

    def __init__(
        self,
        *,
        grant_changed: bool,
        grant: GrantState | None,
        postpaid_changed: bool,
        call_changed: bool = False,
        hold: HoldRecord | None = None,
    ) -> None:
        super().__init__("the grant, the postpaid switch or the request's item changed")
        self.grant_changed = grant_changed
        self.grant = grant
        """The grant as it is now when the refusal carried it; None when it must be read."""
        self.postpaid_changed = postpaid_changed
        self.call_changed = call_changed
        self.hold = hold
        """With ``call_changed``: the hold the request's item holds now (None: no item)."""


class ExpiryRecorded(Refused):
    """expire_grant: the grant's expiry entry exists; its expiry was recorded already."""


class GrantMoved(Refused):
    """expire_grant: the grant no longer holds the expected remainder, or is not yet due."""

    def __init__(self, grant: GrantState | None) -> None:
        super().__init__("the grant changed")
        self.grant = grant
        """The grant as it is now; None if the refusal did not carry it."""


class CallTaken(Refused):
    """commit_hold: the request_id names a call already (a hold, a usage, or both); this is it."""

    def __init__(self, call: CallRecord) -> None:
        super().__init__("the request_id names a call already")
        self.call = call


class HoldEnded(Refused):
    """close_hold: the hold is no longer open and live (or a usage is on its item); as it is now."""

    def __init__(self, hold: HoldRecord | None) -> None:
        super().__init__("the hold has ended")
        self.hold = hold


class UsageChanged(Refused):
    """commit_reversal: the usage record is not as the plan read it (reversed meanwhile)."""

    def __init__(self, usage: UsageRecord | None) -> None:
        super().__init__("the usage record changed")
        self.usage = usage


class ActionTaken(Refused):
    """An operator action's ``action_id`` names a recorded action already; this is it."""

    def __init__(self, action: ActionRecord) -> None:
        super().__init__(f"action {action.action_id!r} is recorded")
        self.action = action


class BatchRefused(Refused):
    """BatchWriter.commit: these items of the transaction were refused; nothing of it was written."""

    def __init__(
        self,
        recorded: dict[str, UsageRecord],
        grants: dict[tuple[str, str], GrantState | None],
        profiles: set[str],
        holds: dict[str, HoldRecord | None] | None = None,
    ) -> None:
        super().__init__(f"{len(recorded)} recorded, {len(grants)} grant(s), {len(profiles)} profile(s) changed")
        self.recorded = recorded
        """request_id -> the usage record that exists for it."""
        self.holds = holds or {}
        """request_id -> the hold its item holds now (None: no item), for records whose item was
        not as planned."""
        self.grants = grants
        """(account_id, model_id) -> the grant as it is now; None when it must be read."""
        self.profiles = profiles
        """Accounts whose postpaid switch is no longer as the batch assumed."""
