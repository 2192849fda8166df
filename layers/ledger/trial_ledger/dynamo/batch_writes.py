"""The batched usage write: one transaction of runs, its cancellation read item by item."""

from __future__ import annotations

from pynamodb.connection import Connection

from ..domain.refusals import BatchRefused
from ..domain.state import GrantKey, GrantState, HoldRecord, UsageRecord
from ..domain.writes import BatchCommit
from . import mapping
from .grant_writes import GrantWrite, prove_profile, write_call, write_grant
from .transactions import Cancellation, ItemRef, transaction


class BatchWriter:
    """The store's collaborator for ``POST /v1/usage/batch``: one request per commit."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def commit(self, commit: BatchCommit) -> None:
        """Write every run's usages (settling their holds) and grant write in one transaction.
        Raises BatchRefused (what each refused item showed) or Contended."""
        calls: dict[ItemRef, str] = {}
        grant_writes: dict[GrantWrite, GrantKey] = {}
        checks: dict[ItemRef, str] = {}
        try:
            with transaction(self._connection) as tx:
                for proof in commit.profile_proofs:
                    if (check := prove_profile(tx, proof)) is not None:
                        checks[check] = proof.account_id
                for run in commit.runs:
                    calls |= {write_call(tx, call): call.usage.request_id for call in run.calls}
                    if (grant_write := write_grant(tx, (run.account_id, run.model_id), run)) is not None:
                        grant_writes[grant_write] = (run.account_id, run.model_id)
        except Cancellation as cancelled:
            raise _refusal(cancelled, calls, grant_writes, checks) from None


def _refusal(
    cancelled: Cancellation,
    calls: dict[ItemRef, str],
    grant_writes: dict[GrantWrite, GrantKey],
    checks: dict[ItemRef, str],
) -> BatchRefused:
    recorded: dict[str, UsageRecord] = {}
    holds: dict[str, HoldRecord | None] = {}
    for ref, request_id in calls.items():
        call = mapping.call_from_raw(cancelled.old_item(ref))
        if call is not None and call.usage is not None:
            recorded[request_id] = call.usage
        elif cancelled.refused(ref):
            holds[request_id] = call.hold if call is not None else None
    grants: dict[GrantKey, GrantState | None] = {
        key: write.grant_now(cancelled) for write, key in grant_writes.items() if write.refused(cancelled)
    }
    profiles = {account_id for ref, account_id in checks.items() if cancelled.refused(ref)}
    return BatchRefused(recorded, grants, profiles, holds)
