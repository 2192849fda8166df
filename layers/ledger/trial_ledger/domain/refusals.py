"""Why a conditional write of the store was refused: one type per outcome, with what is there now."""

from __future__ import annotations

from .state import GrantState, HoldRecord, UsageRecord


class Refused(Exception):
    """A conditional write was refused and wrote nothing."""


class Contended(Refused):
    """Cancelled by a concurrent transaction or throttled inside one; nothing is learnt: try again."""


class ActivationMissing(Refused):
    """The account is not activated (set_postpaid, or a manual claim's check)."""


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
    """commit_usage: what the attempt expected of the grant or the postpaid switch no longer holds."""

    def __init__(self, *, grant_changed: bool, grant: GrantState | None, postpaid_changed: bool) -> None:
        super().__init__("the grant or the postpaid switch changed")
        self.grant_changed = grant_changed
        self.grant = grant
        """The grant as it is now when the refusal carried it; None when it must be read."""
        self.postpaid_changed = postpaid_changed


class ExpiryRecorded(Refused):
    """expire_grant: the grant's expiry entry exists; its expiry was recorded already."""


class GrantMoved(Refused):
    """expire_grant: the grant no longer holds the expected remainder, or is not yet due."""

    def __init__(self, grant: GrantState | None) -> None:
        super().__init__("the grant changed")
        self.grant = grant
        """The grant as it is now; None if the refusal did not carry it."""


class HoldExists(Refused):
    """commit_hold: the request_id has a hold already; this is it."""

    def __init__(self, hold: HoldRecord) -> None:
        super().__init__(f"request_id {hold.request_id!r} has a hold")
        self.hold = hold


class HoldEnded(Refused):
    """close_hold: the hold is no longer open (or a usage settled it); the hold as it is now."""

    def __init__(self, hold: HoldRecord | None) -> None:
        super().__init__("the hold has ended")
        self.hold = hold


class BatchRefused(Refused):
    """BatchWriter.commit: these items of the transaction were refused; nothing of it was written."""

    def __init__(
        self,
        recorded: dict[str, UsageRecord],
        grants: dict[tuple[str, str], GrantState | None],
        profiles: set[str],
    ) -> None:
        super().__init__(f"{len(recorded)} recorded, {len(grants)} grant(s), {len(profiles)} profile(s) changed")
        self.recorded = recorded
        """request_id -> the usage record that exists for it."""
        self.grants = grants
        """(account_id, model_id) -> the grant as it is now; None when it must be read."""
        self.profiles = profiles
        """Accounts whose postpaid switch is no longer as the batch assumed."""
