"""An account's alert thresholds (R20): its profile and every grant it has, written together.

The thresholds travel on the grant items, so that the events function reads them from the stream
record's new image, with no read of its own. The profile's update is conditioned on the
activation and on ``grants_claimed`` being what the change read: every claim adds to it in its own
transaction (grant_writes.prove_profile), so a grant claimed after the change read the account
refuses the change, which reads again. A claim that read the profile before the change is refused
in turn: its condition names the thresholds it copied."""

from __future__ import annotations

from itertools import batched

from pynamodb.connection import Connection

from ..domain.refusals import ActivationMissing, Contended, ProfileChanged
from ..domain.writes import MAX_TRANSACTION_ITEMS, AlertsChange
from . import expressions, mapping
from .items import AccountProfileItem, GrantItem
from .keys import PROFILE_SORT_KEY, account_key, grant_key
from .transactions import Cancellation, TransactionItems, transaction


def write_alerts(connection: Connection, change: AlertsChange) -> None:
    """One transaction for the profile and the first 99 grants; an account with more grants (a
    catalog of more than 99 trial models) has the rest written by further transactions of 100,
    after the profile: until they land, those grants keep the thresholds they had, and a change
    that fails among them leaves them so until it is repeated (the route is idempotent).
    Raises ActivationMissing, ProfileChanged (with the profile as it is) or Contended."""
    first = change.model_ids[: MAX_TRANSACTION_ITEMS - 1]
    try:
        with transaction(connection) as tx:
            profile = AccountProfileItem(account_key(change.account_id), PROFILE_SORT_KEY)
            profile_write = tx.update(profile, *expressions.alerts_on_profile(change))
            _grants(tx, change, first)
    except Cancellation as cancelled:
        if not cancelled.refused(profile_write):
            raise Contended("a grant of the account was not there to write") from None  # never deleted
        current = mapping.profile_from_raw(change.account_id, cancelled.old_item(profile_write))
        if current.activated_at is None:
            raise ActivationMissing(change.account_id) from None
        raise ProfileChanged(current) from None
    for chunk in batched(change.model_ids[len(first) :], MAX_TRANSACTION_ITEMS):
        with transaction(connection) as tx:
            _grants(tx, change, chunk)


def _grants(tx: TransactionItems, change: AlertsChange, model_ids: tuple[str, ...]) -> None:
    actions, condition = expressions.alerts_on_grant(change.thresholds)
    for model_id in model_ids:
        tx.update(GrantItem(*grant_key(change.account_id, model_id)), actions, condition)
