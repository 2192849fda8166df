"""An operator action on a grant (R18): one transaction, its cancellation read item by item."""

from __future__ import annotations

from pynamodb.connection import Connection

from ...domain.planning.actions import ActionCommit, ActionRecord
from ...domain.refusals import ActionTaken, GrantMoved
from .. import mapping
from ..errors import unavailable_on_transient
from ..items import ActionItem, GrantItem
from ..keys import ACTION_SORT_KEY, action_key, grant_key
from ..transactions import Cancellation, transaction
from . import entry_mapping, expressions


class ActionWriter:
    """The store's collaborator for the operator routes: one request per commit."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def commit(self, commit: ActionCommit) -> None:
        """Put the action's item (once per ``action_id``) and change its grant, atomically.
        Raises ActionTaken (the action recorded under that id), GrantMoved (with the grant as it
        is) or Contended."""
        action = commit.action
        grant = GrantItem(*grant_key(action.account_id, action.model_id))
        try:
            with transaction(self._connection) as tx:
                put = tx.put(entry_mapping.action_item(action), ActionItem.pk.does_not_exist())
                update = tx.update(grant, *expressions.operator_action(commit))
        except Cancellation as cancelled:
            if existing := entry_mapping.action_from_raw(cancelled.old_item(put)):
                raise ActionTaken(existing) from None
            raise GrantMoved(mapping.grant_from_raw(cancelled.old_item(update))) from None

    def get(self, action_id: str) -> ActionRecord | None:
        """The action recorded under ``action_id``, strongly consistent; None if none."""
        with unavailable_on_transient():
            items = list(
                ActionItem.query(action_key(action_id), ActionItem.sk == ACTION_SORT_KEY, consistent_read=True)
            )
        return entry_mapping.action_record(items[0]) if items else None
