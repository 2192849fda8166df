"""The transaction items that the single usage, the batch and the hold write share.

The usage onto its request's item, a new hold, the grant's part of a usage write, the draw, the postpaid check."""

from __future__ import annotations

from ..domain.state import GrantKey, HoldRecord
from ..domain.writes import CallWrite, GrantDraw, GrantRun, ProfileProof, UsageCommit
from . import expressions, mapping, plain
from .items import AccountProfileItem, GrantItem, HoldItem, UsageItem
from .keys import CALL_SORT_KEY, PROFILE_SORT_KEY, account_key, call_key, grant_sort_key
from .transactions import ItemRef, TransactionItems


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
    return tx.update_plain(expressions.draw(draw).operation(plain.key(pk, grant_sort_key(draw.model_id))))


def prove_profile(tx: TransactionItems, proof: ProfileProof) -> ItemRef | None:
    """The profile's part of a write, one item: a check (the postpaid switch a split assumed, the
    activation), or, for a write that creates grants, an update counting them whose condition
    proves the alert thresholds they copy (R20); None when the write needs nothing of it."""
    if not proof.needed:
        return None
    pk, condition = account_key(proof.account_id), expressions.profile_proof(proof)
    if not proof.claims:
        return tx.check(AccountProfileItem, pk, PROFILE_SORT_KEY, condition)
    return tx.update(AccountProfileItem(pk, PROFILE_SORT_KEY), expressions.count_claims(proof), condition)


def put_hold(tx: TransactionItems, hold: HoldRecord) -> ItemRef:
    """A new hold on its request's item, which must not exist."""
    return tx.put_plain(
        plain.new_item_put(HoldItem, call_key(hold.request_id), CALL_SORT_KEY, mapping.hold_fields(hold))
    )


def write_call(tx: TransactionItems, call: CallWrite) -> ItemRef:
    """The usage onto its request's item: a new item, whose put proves that the request has no
    hold (one may have appeared since the plan: it must be settled, not bypassed), or the item of
    the hold the plan read, proven unchanged."""
    pk = call_key(call.usage.request_id)
    if call.hold is None:
        return tx.put_plain(plain.new_item_put(UsageItem, pk, CALL_SORT_KEY, mapping.usage_fields(call.usage)))
    return tx.update_plain(expressions.usage_on_hold(call).operation(plain.key(pk, CALL_SORT_KEY)))
