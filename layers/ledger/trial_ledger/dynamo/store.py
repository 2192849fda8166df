"""The data access: every DynamoDB request of the ledger is one method of LedgerStore.

Collaborators: its base AccountReads (account_reads.py, with ``legacy``), ``queries``
(indexes/queries.py), ``batches`` (batch_writes.py), ``reversals`` and
``actions`` (corrections/); the transaction items they share with it are in grant_writes.py.

Writes are conditional; a refused one raises a refusal (domain/refusals.py) carrying the item as it is now
(ReturnValuesOnConditionCheckFailure). Rules and retries live in the use cases."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from pynamodb.exceptions import UpdateError

from ..domain import refusals
from ..domain.refusals import (
    ActivationMissing,
    AlreadyRecorded,
    CallTaken,
    ExpiryRecorded,
    GrantMoved,
    GrantsExist,
    Outdated,
    ProfileChanged,
)
from ..domain.state import (
    CallRecord,
    HoldRecord,
    LedgerStamp,
    ProfileState,
    UsageRecord,
)
from ..domain.writes import AlertsChange, HoldClosing, HoldCommit, NewGrant, UsageCommit, profile_proof
from . import expressions, mapping
from .account_reads import AccountReads, get_item
from .alerts_writes import write_alerts
from .batch_writes import BatchWriter
from .errors import is_condition_failure, unavailable_on_transient
from .grant_writes import GrantWrite, draw_grant, prove_profile, put_grant, put_hold, write_call, write_grant
from .items import AccountProfileItem, CallItem, ExpiryItem, GrantItem, HoldItem, LedgerItem, UsageItem
from .keys import CALL_SORT_KEY, PROFILE_SORT_KEY, account_key, call_key, grant_key
from .transactions import Cancellation, transaction

if TYPE_CHECKING:
    from ..domain.index_entries import ExpiryCandidate
    from .corrections.action_writes import ActionWriter
    from .corrections.reversal_writes import ReversalWriter
    from .indexes.queries import IndexQueries

# The collaborators of the routes that are not hot are imported on first use (their properties):
# the usage path's cold start does without them (docs/performance.md, "Handler init").
# ruff: noqa: PLC0415


class LedgerStore(AccountReads):
    def __init__(self) -> None:
        # The models' own connection: one botocore client (one service model loaded at init)
        # serves the transactions and the item requests alike.
        super().__init__(LedgerItem._get_connection().connection)
        self.batches = BatchWriter(self._connection)

    @functools.cached_property
    def reversals(self) -> ReversalWriter:
        from .corrections.reversal_writes import ReversalWriter

        return ReversalWriter(self._connection)

    @functools.cached_property
    def actions(self) -> ActionWriter:
        from .corrections.action_writes import ActionWriter

        return ActionWriter(self._connection)

    @functools.cached_property
    def queries(self) -> IndexQueries:
        from .indexes.queries import IndexQueries

        return IndexQueries(self.legacy)

    @property
    def client(self) -> Any:
        """The botocore client transactions go through (for instrumentation)."""
        return self._connection.client

    def prime_clients(self) -> None:
        """Create the botocore client, loading DynamoDB's service model, and every collaborator,
        without sending a request: work a SnapStart snapshot keeps."""
        _ = self._connection.client, self.reversals, self.actions, self.queries

    # -- accounts -------------------------------------------------------------------------

    def activate(self, account_id: str, now: str) -> ProfileState:
        item = AccountProfileItem(account_key(account_id), PROFILE_SORT_KEY)
        with unavailable_on_transient():
            item.update(actions=expressions.activation(account_id, now))
        return mapping.profile_state(item)

    def set_postpaid(self, account_id: str, enabled: bool, now: str) -> ProfileState:
        """Set the switch on an activated account; raises ActivationMissing otherwise."""
        item = AccountProfileItem(account_key(account_id), PROFILE_SORT_KEY)
        try:
            with unavailable_on_transient():
                item.update(actions=expressions.postpaid(enabled, now), condition=expressions.activated())
        except UpdateError as error:
            if is_condition_failure(error):
                raise ActivationMissing(account_id) from None
            raise
        return mapping.profile_state(item)

    def set_alerts(self, change: AlertsChange) -> None:
        """Set an account's alert thresholds on its profile and every grant (alerts_writes.py).
        Raises ActivationMissing, ProfileChanged (a grant was claimed since the read) or Contended."""
        write_alerts(self._connection, change)

    def create_grants(self, account_id: str, grants: Sequence[NewGrant], require_activation: bool) -> None:
        """Put new grants in one transaction, counted on the profile, whose alert thresholds must
        be the ones the grants copy (R20). Raises ActivationMissing (when asked for), ProfileChanged
        (the profile as it is), GrantsExist (with the grants that exist), or Contended."""
        proof = profile_proof(account_id, grants, require_activation=require_activation)
        try:
            with transaction(self._connection) as tx:
                check = prove_profile(tx, proof)
                puts = {grant.state.model_id: put_grant(tx, grant) for grant in grants}
        except Cancellation as cancelled:
            if cancelled.refused(check):
                profile = mapping.profile_from_raw(account_id, cancelled.old_item(check))
                if require_activation and profile.activated_at is None:
                    raise ActivationMissing(account_id) from None
                raise ProfileChanged(profile) from None
            refused = {model_id: put.grant_now(cancelled) for model_id, put in puts.items() if put.refused(cancelled)}
            unread = [(account_id, model_id) for model_id, grant in refused.items() if grant is None]
            existing = {model_id: grant for model_id, grant in refused.items() if grant is not None}
            existing |= {model_id: grant for (_, model_id), grant in self.read_grants(unread).items()}
            raise GrantsExist(existing) from None

    def commit_usage(self, commit: UsageCommit) -> None:
        """Record one usage (on its request's item) and its draw on the grant atomically. Raises
        AlreadyRecorded (the request_id's record), Outdated (an expectation failed: the grant, the
        postpaid switch, or the request's item), or Contended."""
        usage = commit.usage
        try:
            with transaction(self._connection) as tx:
                profile_check = prove_profile(tx, commit.profile_proof)
                call_write = write_call(tx, commit.call)
                grant_write = write_grant(tx, (usage.account_id, usage.model_id), commit)
        except Cancellation as cancelled:
            call = mapping.call_from_raw(cancelled.old_item(call_write))
            if call is not None and call.usage is not None:
                raise AlreadyRecorded(call.usage) from None
            raise Outdated(
                grant_changed=grant_write is not None and grant_write.refused(cancelled),
                grant=grant_write.grant_now(cancelled) if grant_write is not None else None,
                postpaid_changed=cancelled.refused(profile_check),
                call_changed=cancelled.refused(call_write),
                hold=call.hold if call is not None else None,
            ) from None

    def settle_free_remaining(self, request_id: str, free_remaining: int) -> int:
        """Fill in a usage record's ``free_remaining`` once; returns the value that stands (ours,
        or the one a concurrent replay settled first)."""
        item = UsageItem(call_key(request_id), CALL_SORT_KEY)
        return self._settle_once(item, UsageItem.free_remaining, free_remaining, lambda: self.get_usage(request_id))

    def settle_free_available(self, request_id: str, free_available: int) -> int:
        """Fill in a hold's ``free_available`` once (after a relaxed hold); returns what stands."""
        item = HoldItem(call_key(request_id), CALL_SORT_KEY)
        return self._settle_once(item, HoldItem.free_available, free_available, lambda: self.get_hold(request_id))

    def _settle_once(self, item: Any, attribute: Any, value: int, read: Callable[[], Any]) -> int:
        try:
            with unavailable_on_transient():
                item.update(actions=[attribute.set(value)], condition=expressions.unset(type(item), attribute))
        except UpdateError as error:
            settled = getattr(read(), attribute.attr_name, None) if is_condition_failure(error) else None
            if settled is None:
                raise
            return int(settled)
        return value

    def commit_hold(self, commit: HoldCommit) -> None:
        """Put a hold and its reservation atomically. Raises CallTaken (the request_id names a
        call already: a hold, a usage, or both), Outdated (an expectation failed), or Contended."""
        hold = commit.hold
        grant_write = GrantWrite()
        try:
            with transaction(self._connection) as tx:
                profile_check = prove_profile(tx, commit.profile_proof)
                hold_put = put_hold(tx, hold)
                if commit.new_grant is not None:
                    grant_write = put_grant(tx, commit.new_grant)
                if commit.draw is not None:
                    grant_write = GrantWrite(grant=draw_grant(tx, hold.account_id, commit.draw))
        except Cancellation as cancelled:
            if existing := mapping.call_from_raw(cancelled.old_item(hold_put)):
                raise CallTaken(existing) from None
            raise Outdated(
                grant_changed=grant_write.refused(cancelled),
                grant=grant_write.grant_now(cancelled),
                postpaid_changed=cancelled.refused(profile_check),
            ) from None

    def get_call(self, request_id: str) -> CallRecord | None:
        """What the request_id names: its hold, its usage, or both; None if nothing."""
        item = get_item(CallItem, call_key(request_id), CALL_SORT_KEY)
        return mapping.call_record(item) if item else None

    def get_hold(self, request_id: str) -> HoldRecord | None:
        call = self.get_call(request_id)
        return call.hold if call else None

    def get_usage(self, request_id: str) -> UsageRecord | None:
        call = self.get_call(request_id)
        return call.usage if call else None

    def close_hold(self, closing: HoldClosing, with_grant: bool) -> None:
        """End an open hold: the item's status and, ``with_grant``, its units out of its period,
        atomically. A release needs the hold live with no usage on its item; a timeout (the sweep)
        its ``expires_at`` passed. Raises HoldEnded (the hold as it is now, when known) or
        GrantMoved (its period no longer holds its units: removed once timed out, or expired)."""
        try:
            self._close_hold(closing, with_grant)
        except GrantMoved as moved:
            if moved.grant is not None or not self.legacy.move_if_legacy([(closing.account_id, closing.model_id)]):
                raise
            self._close_hold(closing, with_grant)  # its grant was still at its claim key

    def _close_hold(self, closing: HoldClosing, with_grant: bool) -> None:
        hold = HoldItem(call_key(closing.request_id), CALL_SORT_KEY)
        grant_write = None
        try:
            with transaction(self._connection) as tx:
                hold_write = tx.update(hold, *expressions.close_hold(closing))
                if with_grant:
                    grant = GrantItem(*grant_key(closing.account_id, closing.model_id))
                    grant_write = tx.update(grant, *expressions.return_held(closing))
        except Cancellation as cancelled:
            if cancelled.refused(hold_write):
                call = mapping.call_from_raw(cancelled.old_item(hold_write))
                raise refusals.HoldEnded(call.hold if call else None) from None
            raise GrantMoved(mapping.grant_from_raw(cancelled.old_item(grant_write))) from None

    def expire_grant(self, candidate: ExpiryCandidate, expected: LedgerStamp, as_of: str, now: str) -> None:
        """Move the whole remainder (exactly ``expected.remaining``, the grant's ledger ending at
        ``expected``) to ``expired`` and write the expiry entry, atomically. Raises ExpiryRecorded,
        GrantMoved (with the grant as it is) or Contended."""
        grant = GrantItem(*grant_key(candidate.account_id, candidate.model_id))
        actions, condition = expressions.expiry(expected, as_of, now)
        stamp = LedgerStamp(expected.sequence + 1, expected.used, 0, expected.expired + expected.remaining)
        item = mapping.expiry_item(candidate, expected.remaining, as_of, now, stamp)
        try:
            with transaction(self._connection) as tx:
                entry = tx.put(item, ExpiryItem.pk.does_not_exist())
                update = tx.update(grant, actions, condition)
        except Cancellation as cancelled:
            if cancelled.refused(entry):
                raise ExpiryRecorded(candidate.model_id) from None
            raise GrantMoved(mapping.grant_from_raw(cancelled.old_item(update))) from None

    def mark_expiring_soon(self, candidate: ExpiryCandidate, as_of: str, now: str) -> bool:
        """Mark a grant that still holds a remainder and expires after ``as_of`` as notified,
        once ever; False when it was marked before or no longer qualifies."""
        item = GrantItem(*grant_key(candidate.account_id, candidate.model_id))
        try:
            with unavailable_on_transient():
                item.update(actions=[GrantItem.expiring_soon_notified_at.set(now)],
                            condition=expressions.expiring_soon_unmarked(as_of))  # fmt: skip
        except UpdateError as error:
            if is_condition_failure(error):
                return False
            raise
        return True

    def drop_exhausted_from_index(self, account_id: str, model_id: str) -> None:
        """Take a grant whose remainder is zero out of the expiry index; nothing if it has one."""
        item = GrantItem(*grant_key(account_id, model_id))
        try:
            with unavailable_on_transient():
                item.update(actions=[GrantItem.expiry_shard.remove()], condition=expressions.exhausted())
        except UpdateError as error:
            if not is_condition_failure(error):
                raise
