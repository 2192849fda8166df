"""The reversal of one usage (R17): one transaction, its cancellation read item by item."""

from __future__ import annotations

from pynamodb.connection import Connection

from ...domain.planning.reversal import ReversalCommit
from ...domain.refusals import GrantMoved, UsageChanged
from .. import mapping
from ..items import AccountProfileItem, GrantItem, ReversalItem, UsageItem
from ..keys import CALL_SORT_KEY, PROFILE_SORT_KEY, account_key, call_key, expiry_shard_of, grant_key
from ..transactions import Cancellation, transaction
from . import entry_mapping, expressions


class ReversalWriter:
    """The store's collaborator for ``POST /v1/usage/reversals``: one request per commit."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def commit(self, commit: ReversalCommit) -> None:
        """Reverse one usage atomically: the mark on its record, the reversal's item (its grant
        ledger's entry, when free units move), the grant's balances, and the account's revival
        count when units go back to an exhausted grant. Raises UsageChanged, GrantMoved (with the
        grant as it is) or Contended."""
        usage, pk = commit.usage, account_key(commit.usage.account_id)
        grant_write = None
        try:
            with transaction(self._connection) as tx:
                mark = tx.update(UsageItem(call_key(usage.request_id), CALL_SORT_KEY),
                                 *expressions.reversal_mark(commit))  # fmt: skip
                tx.put(entry_mapping.reversal_item(commit), ReversalItem.pk.does_not_exist())
                if commit.entry is not None:
                    grant = GrantItem(*grant_key(usage.account_id, usage.model_id))
                    shard = expiry_shard_of(usage.account_id, usage.model_id)
                    grant_write = tx.update(grant, *expressions.reversal_return(commit, shard))
                if commit.revives:
                    profile = AccountProfileItem(pk, PROFILE_SORT_KEY)
                    tx.update(profile, expressions.revival(usage.account_id, commit.now))
        except Cancellation as cancelled:
            if cancelled.refused(grant_write):
                raise GrantMoved(mapping.grant_from_raw(cancelled.old_item(grant_write))) from None
            call = mapping.call_from_raw(cancelled.old_item(mark))
            raise UsageChanged(call.usage if call is not None else None) from None
