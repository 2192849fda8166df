"""The batched usage write of LedgerStore (a mixin of it).

Also the transaction items it shares with the single usage (the grant's write, the hold's settle)
and the hold writes (the draw, the postpaid check)."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import TYPE_CHECKING

from ..domain.refusals import BatchRefused
from ..domain.state import GrantState
from ..domain.writes import BatchCommit, GrantDraw, GrantRun, UsageCommit
from . import expressions, mapping
from .items import AccountProfileItem, GrantItem, HoldItem, UsageItem
from .keys import HOLD_SORT_KEY, PROFILE_SORT_KEY, account_key, grant_sort_key, hold_key
from .transactions import Cancellation, ItemRef, TransactionItems

GrantKey = tuple[str, str]


class BatchWrites:
    if TYPE_CHECKING:

        def _transaction(self) -> AbstractContextManager[TransactionItems]: ...

    def commit_batch(self, commit: BatchCommit) -> None:
        """Write every run's usages, grant write and hold settles in one transaction. Raises
        BatchRefused (what each refused item showed) or Contended."""
        puts: dict[ItemRef, str] = {}
        grant_writes: dict[ItemRef, GrantKey] = {}
        settles: dict[ItemRef, GrantKey] = {}
        checks: dict[ItemRef, str] = {}
        try:
            with self._transaction() as tx:
                checks = {_check(tx, account_key(account_id), expected): account_id
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


def write_grant(tx: TransactionItems, grant: GrantKey, writes: GrantRun | UsageCommit) -> ItemRef | None:
    """The grant's part of a usage write (one record's or a run's): the claim's put, the draw, or
    the proof that no grant exists; None when the usage does not touch the grant."""
    account_id, model_id = grant
    pk = account_key(account_id)
    if writes.new_grant is not None:
        return tx.put(mapping.grant_item(writes.new_grant), GrantItem.pk.does_not_exist())
    if writes.draw is not None:
        return draw_grant(tx, pk, writes.draw)
    if writes.expect_no_grant:
        return tx.check(GrantItem, pk, grant_sort_key(model_id), GrantItem.pk.does_not_exist())
    return None


def draw_grant(tx: TransactionItems, pk: str, draw: GrantDraw) -> ItemRef:
    actions, condition = expressions.draw(draw)
    return tx.update(GrantItem(pk, grant_sort_key(draw.model_id)), actions, condition)


def check_postpaid(tx: TransactionItems, pk: str, expected: bool | None) -> ItemRef | None:
    """The postpaid switch is as a split assumed; no check when the split did not depend on it."""
    return None if expected is None else _check(tx, pk, expected)


def _check(tx: TransactionItems, pk: str, expected: bool) -> ItemRef:
    return tx.check(AccountProfileItem, pk, PROFILE_SORT_KEY, expressions.postpaid_is(expected))


def settle_hold(tx: TransactionItems, request_id: str, now: str) -> ItemRef:
    """The hold item of a usage that settles it: ``open`` -> ``settled``."""
    return tx.update(HoldItem(hold_key(request_id), HOLD_SORT_KEY), *expressions.settle_hold(now))
