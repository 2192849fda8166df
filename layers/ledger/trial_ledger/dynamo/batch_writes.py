"""The batched usage write: one transaction of runs, its cancellation read item by item."""

from __future__ import annotations

from pynamodb.connection import Connection

from ..domain.refusals import BatchRefused
from ..domain.state import GrantKey, GrantState
from ..domain.writes import BatchCommit
from . import mapping
from .grant_writes import postpaid_check, settle_hold, write_grant
from .items import UsageItem
from .keys import account_key
from .transactions import Cancellation, ItemRef, transaction


class BatchWriter:
    """The store's collaborator for ``POST /v1/usage/batch``: one request per commit."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def commit(self, commit: BatchCommit) -> None:
        """Write every run's usages, grant write and hold settles in one transaction. Raises
        BatchRefused (what each refused item showed) or Contended."""
        puts: dict[ItemRef, str] = {}
        grant_writes: dict[ItemRef, GrantKey] = {}
        settles: dict[ItemRef, GrantKey] = {}
        checks: dict[ItemRef, str] = {}
        try:
            with transaction(self._connection) as tx:
                checks = {postpaid_check(tx, account_key(account_id), expected): account_id
                          for account_id, expected in commit.postpaid_checks.items()}  # fmt: skip
                for run in commit.runs:
                    key = (run.account_id, run.model_id)
                    puts |= {tx.put(mapping.usage_item(usage), UsageItem.pk.does_not_exist()): usage.request_id
                             for usage in run.usages}  # fmt: skip
                    if (grant_write := write_grant(tx, key, run)) is not None:
                        grant_writes[grant_write] = key
                    settles |= {settle_hold(tx, request_id, run.usages[0].recorded_at): key
                                for request_id in run.settles_holds}  # fmt: skip
        except Cancellation as cancelled:
            raise _refusal(cancelled, puts, grant_writes, settles, checks) from None


def _refusal(
    cancelled: Cancellation,
    puts: dict[ItemRef, str],
    grant_writes: dict[ItemRef, GrantKey],
    settles: dict[ItemRef, GrantKey],
    checks: dict[ItemRef, str],
) -> BatchRefused:
    recorded = {request_id: record for ref, request_id in puts.items()
                if (record := mapping.usage_from_raw(cancelled.old_item(ref))) is not None}  # fmt: skip
    grants: dict[GrantKey, GrantState | None] = {}
    for ref, key in grant_writes.items():
        if cancelled.refused(ref):
            grants[key] = mapping.grant_from_raw(cancelled.old_item(ref))
    # A hold that is no longer open took its grant entry with it: read the grant again.
    for ref, key in settles.items():
        if cancelled.refused(ref):
            grants.setdefault(key, None)
    profiles = {account_id for ref, account_id in checks.items() if cancelled.refused(ref)}
    return BatchRefused(recorded, grants, profiles)
