"""The one data-access module: every DynamoDB request of the ledger is one method here.

Writes are conditional; when a condition fails, the item as it is now comes back with the failure
(ReturnValuesOnConditionCheckFailure) instead of through a second read, inside the refusal the
method raises (refusals.py). Rules and retries live in the use cases; this module speaks DynamoDB,
with its keys, mappings, expressions and error classes in the modules beside it."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from pynamodb.connection import Connection
from pynamodb.exceptions import DoesNotExist, TransactWriteError, UpdateError
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from . import expressions, mapping
from .dynamo_errors import (
    TRANSACTION_CANCELLED,
    StoreUnavailable,
    cause_code,
    is_condition_failure,
    is_transient,
    unavailable_on_transient,
)
from .keys import PROFILE_SORT_KEY, USAGE_SORT_KEY, account_key, grant_sort_key, usage_key
from .records import USAGE_BY_ACCOUNT_INDEX, AccountProfileItem, ExpiryItem, GrantItem, LedgerItem, UsageItem
from .refusals import ActivationMissing, AlreadyRecorded, ExpiryRecorded, GrantMoved, GrantsExist, Outdated
from .state import ExpiryCandidate, GrantState, ProfileState, UsageRecord
from .transactions import Cancellation, ItemRef, TransactionItems
from .writes import NewGrant, UsageCommit

FILTERED_PAGE = 250
"""Records read per Query when listing one model's usage (a filter over the account's)."""
MAX_ITEMS_EVALUATED = 1_000
"""At most this many records are read for one listing call (a console page: bounded time)."""


class LedgerStore:
    def __init__(self) -> None:
        # The models' own connection: one botocore client (one service model loaded at init)
        # serves the transactions and the item requests alike.
        self._connection: Connection = LedgerItem._get_connection().connection

    @property
    def client(self) -> Any:
        """The botocore client transactions go through (for instrumentation)."""
        return self._connection.client

    def prime_clients(self) -> None:
        """Create the botocore client, loading DynamoDB's service model, without sending a
        request: work a SnapStart snapshot keeps."""
        _ = self._connection.client

    # -- accounts -------------------------------------------------------------------------

    def activate(self, account_id: str, now: str) -> ProfileState:
        item = AccountProfileItem(account_key(account_id), PROFILE_SORT_KEY)
        with unavailable_on_transient():
            item.update(actions=expressions.activation(account_id, now))
        return mapping.profile_state(item)

    def set_postpaid(self, account_id: str, enabled: bool, now: str) -> ProfileState:
        """Set the switch on an activated account; raises ActivationMissing otherwise."""
        item = AccountProfileItem(account_key(account_id), PROFILE_SORT_KEY)
        actions: list[Action] = [
            AccountProfileItem.postpaid_enabled.set(enabled),
            AccountProfileItem.updated_at.set(now),
        ]
        try:
            with unavailable_on_transient():
                item.update(actions=actions, condition=expressions.activated())
        except UpdateError as error:
            if is_condition_failure(error):
                raise ActivationMissing(account_id) from None
            raise
        return mapping.profile_state(item)

    def get_profile(self, account_id: str) -> ProfileState:
        try:
            with unavailable_on_transient():
                item = AccountProfileItem.get(account_key(account_id), PROFILE_SORT_KEY, consistent_read=True)
        except DoesNotExist:
            return ProfileState.absent(account_id)
        return mapping.profile_state(item)

    # -- grants ---------------------------------------------------------------------------

    def read_account(self, account_id: str, model_ids: Sequence[str]) -> tuple[ProfileState, dict[str, GrantState]]:
        """The account's profile and its grants of ``model_ids``, strongly consistent, in one
        BatchGetItem."""
        keys = [(account_key(account_id), PROFILE_SORT_KEY)]
        keys += [(account_key(account_id), grant_sort_key(model_id)) for model_id in dict.fromkeys(model_ids)]
        with unavailable_on_transient():
            items = list(LedgerItem.batch_get(keys, consistent_read=True))
        profile, grants = mapping.profile_and_grants(account_id, items)
        return profile, {grant.model_id: grant for grant in grants}

    def read_whole_account(self, account_id: str) -> tuple[ProfileState, list[GrantState]]:
        """The profile and every grant of the account: one strongly consistent Query."""
        with unavailable_on_transient():
            items = list(LedgerItem.query(account_key(account_id), consistent_read=True))
        return mapping.profile_and_grants(account_id, items)

    def create_grants(self, account_id: str, grants: Sequence[NewGrant], require_activation: bool) -> None:
        """Put new grants in one transaction. Raises ActivationMissing (the check failed, when
        asked for), GrantsExist (with the grants that exist), or Contended."""
        check: ItemRef | None = None
        try:
            with self._transaction() as tx:
                if require_activation:
                    check = tx.check(
                        AccountProfileItem, account_key(account_id), PROFILE_SORT_KEY, expressions.activated()
                    )
                puts = [tx.put(mapping.grant_item(grant), GrantItem.pk.does_not_exist()) for grant in grants]
        except Cancellation as cancelled:
            if cancelled.refused(check):
                raise ActivationMissing(account_id) from None
            existing = [mapping.grant_from_raw(cancelled.old_item(put)) for put in puts if cancelled.refused(put)]
            raise GrantsExist({grant.model_id: grant for grant in existing if grant is not None}) from None

    # -- usage ----------------------------------------------------------------------------

    def commit_usage(self, commit: UsageCommit) -> None:
        """Record one usage and its draw on the grant atomically. Raises AlreadyRecorded (the
        request_id's record), Outdated (an expectation failed), or Contended."""
        usage, pk = commit.usage, account_key(commit.usage.account_id)
        profile_check = grant_write = None
        try:
            with self._transaction() as tx:
                if commit.expect_postpaid is not None:
                    condition = expressions.postpaid_is(commit.expect_postpaid)
                    profile_check = tx.check(AccountProfileItem, pk, PROFILE_SORT_KEY, condition)
                if commit.expect_no_grant:
                    condition = GrantItem.pk.does_not_exist()
                    grant_write = tx.check(GrantItem, pk, grant_sort_key(usage.model_id), condition)
                usage_put = tx.put(mapping.usage_item(usage), UsageItem.pk.does_not_exist())
                if commit.new_grant is not None:
                    grant_write = tx.put(mapping.grant_item(commit.new_grant), GrantItem.pk.does_not_exist())
                if commit.draw is not None:
                    actions, condition = expressions.draw(commit.draw)
                    grant = GrantItem(pk, grant_sort_key(commit.draw.model_id))
                    grant_write = tx.update(grant, actions, condition)
        except Cancellation as cancelled:
            if recorded := mapping.usage_from_raw(cancelled.old_item(usage_put)):
                raise AlreadyRecorded(recorded) from None
            raise Outdated(
                grant_changed=cancelled.refused(grant_write),
                grant=mapping.grant_from_raw(cancelled.old_item(grant_write)),
                postpaid_changed=cancelled.refused(profile_check),
            ) from None

    def settle_free_remaining(self, request_id: str, free_remaining: int) -> int:
        """Fill in a usage record's ``free_remaining`` once; returns the value that stands (ours,
        or the one a concurrent replay settled first)."""
        item = UsageItem(usage_key(request_id), USAGE_SORT_KEY)
        try:
            with unavailable_on_transient():
                item.update(
                    actions=[UsageItem.free_remaining.set(free_remaining)], condition=expressions.unsettled_usage()
                )
        except UpdateError as error:
            if not is_condition_failure(error):
                raise
            settled = self.get_usage(request_id)
            if settled is None or settled.free_remaining is None:
                raise
            return settled.free_remaining
        return free_remaining

    def get_usage(self, request_id: str) -> UsageRecord | None:
        try:
            with unavailable_on_transient():
                item = UsageItem.get(usage_key(request_id), USAGE_SORT_KEY, consistent_read=True)
        except DoesNotExist:
            return None
        return mapping.usage_record(item)

    def usage_page(
        self, account_id: str, model_id: str | None, limit: int, after: tuple[str, str] | None
    ) -> tuple[list[UsageRecord], tuple[str, str] | None]:
        """Up to ``limit`` usage records, newest first, after the ``(usage_order, request_id)``
        position, and the position to resume after (None: nothing follows).

        One index serves both listings; a model's records are filtered from the account's, reading
        at most MAX_ITEMS_EVALUATED records per call, so a page of a rare model among many may come
        back short, with a position to resume from."""
        start = mapping.usage_index_start(account_id, after) if after else None
        records: list[UsageRecord] = []
        evaluated = 0
        while True:
            page = self._usage_index_page(account_id, model_id, limit + 1 if model_id is None else FILTERED_PAGE, start)
            records += [mapping.usage_record(UsageItem.from_raw_data(raw)) for raw in page.get("Items", [])]
            evaluated += int(page.get("ScannedCount", 0))
            start = page.get("LastEvaluatedKey")
            if len(records) > limit:
                return records[:limit], mapping.usage_position(records[limit - 1])
            if start is None:
                return records, None
            if evaluated >= MAX_ITEMS_EVALUATED:
                return records, mapping.usage_position_of_key(start)

    def _usage_index_page(
        self, account_id: str, model_id: str | None, page_size: int, start: dict[str, Any] | None
    ) -> dict[str, Any]:
        """One Query of the usage index, newest first (eventually consistent, as every GSI read)."""
        model_filter = None if model_id is None else UsageItem.model_id == model_id
        with unavailable_on_transient():
            page: dict[str, Any] = UsageItem._get_connection().query(
                account_id, index_name=USAGE_BY_ACCOUNT_INDEX, filter_condition=model_filter,
                exclusive_start_key=start, limit=page_size, scan_index_forward=False,
            )  # fmt: skip
        return page

    # -- expiry ---------------------------------------------------------------------------

    def expiry_candidates(
        self, shard: str, as_of: str, page_size: int, start: dict[str, Any] | None, since: str | None = None
    ) -> tuple[list[ExpiryCandidate], dict[str, Any] | None]:
        """One page of grants due at ``as_of`` (and not before ``since``, when given) in one shard
        of the sparse index, soonest first."""
        due = GrantItem.expires_at <= as_of if since is None else GrantItem.expires_at.between(since, as_of)
        with unavailable_on_transient():
            result = GrantItem.candidates.query(
                shard, due, limit=page_size, page_size=page_size, last_evaluated_key=start
            )
            candidates = [mapping.expiry_candidate(item) for item in result]
            return candidates, result.last_evaluated_key

    def expire_grant(self, candidate: ExpiryCandidate, remaining: int, as_of: str, now: str) -> None:
        """Move the whole remainder (exactly ``remaining``) to ``expired`` and write the expiry
        entry, atomically. Raises ExpiryRecorded, GrantMoved (with the grant as it is) or Contended."""
        grant = GrantItem(account_key(candidate.account_id), grant_sort_key(candidate.model_id))
        actions, condition = expressions.expiry(remaining, as_of, now)
        try:
            with self._transaction() as tx:
                entry = tx.put(mapping.expiry_item(candidate, remaining, as_of, now), ExpiryItem.pk.does_not_exist())
                update = tx.update(grant, actions, condition)
        except Cancellation as cancelled:
            if cancelled.refused(entry):
                raise ExpiryRecorded(candidate.model_id) from None
            raise GrantMoved(mapping.grant_from_raw(cancelled.old_item(update))) from None

    def mark_expiring_soon(self, candidate: ExpiryCandidate, as_of: str, now: str) -> bool:
        """Mark a grant that still holds a remainder and expires after ``as_of`` as notified,
        once ever; False when it was marked before or no longer qualifies."""
        item = GrantItem(account_key(candidate.account_id), grant_sort_key(candidate.model_id))
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
        """Take a grant whose remainder is zero out of the expiry index (after a relaxed draw, or
        when the nightly job finds one there); nothing if it still has a remainder."""
        item = GrantItem(account_key(account_id), grant_sort_key(model_id))
        try:
            with unavailable_on_transient():
                item.update(actions=[GrantItem.expiry_shard.remove()], condition=expressions.exhausted())
        except UpdateError as error:
            if not is_condition_failure(error):
                raise

    # -- audit ----------------------------------------------------------------------------

    def all_items(self) -> Iterable[LedgerItem]:
        """Every item of the table (the audit's full read; never on a request path)."""
        with unavailable_on_transient():
            yield from LedgerItem.scan()

    # -- transactions ---------------------------------------------------------------------

    @contextmanager
    def _transaction(self) -> Iterator[TransactionItems]:
        """One TransactWriteItems, committed when the block ends; raises Cancellation (or
        Contended) when it is cancelled, StoreUnavailable when DynamoDB stays unavailable."""
        # A fresh token per logical attempt: botocore's own retries of this exact request reuse
        # it, so a retry after a timeout whose write already landed is answered, not re-applied.
        write = TransactWrite(connection=self._connection, client_request_token=str(uuid.uuid4()))
        items = TransactionItems(write)
        try:
            with write:
                yield items
        except TransactWriteError as error:
            if cause_code(error) == TRANSACTION_CANCELLED:
                raise items.cancellation(error) from None
            if is_transient(error):
                raise StoreUnavailable(str(error)) from error
            raise
