"""The transaction items that the single usage, the batch and the hold write share.

The usage onto its request's item, a new hold, the grant's part of a usage write, the draw, the postpaid check."""

from __future__ import annotations

from dataclasses import dataclass

from ..domain.state import GrantKey, GrantState, HoldRecord
from ..domain.writes import CallWrite, GrantDraw, GrantRun, NewGrant, ProfileProof, UsageCommit
from . import expressions, mapping, plain
from .items import AccountProfileItem, ClaimMarkItem, GrantItem, HoldItem, UsageItem
from .keys import CALL_SORT_KEY, PROFILE_SORT_KEY, account_key, call_key, claim_key, grant_key
from .transactions import Cancellation, ItemRef, TransactionItems


@dataclass(frozen=True, slots=True)
class GrantWrite:
    """A write's items of one grant: its own item (the draw, or a new grant's put) and its claim
    key (the new grant's mark, or the proof that the model was never claimed)."""

    grant: ItemRef | None = None
    claim: ItemRef | None = None

    def refused(self, cancelled: Cancellation) -> bool:
        return cancelled.refused(self.grant) or cancelled.refused(self.claim)

    def grant_now(self, cancelled: Cancellation) -> GrantState | None:
        """The grant as the refusal returned it; None when it must be read (a refused claim key
        holds a mark, or a grant not yet moved to its own key)."""
        return mapping.grant_from_raw(cancelled.old_item(self.grant))


def write_grant(tx: TransactionItems, grant: GrantKey, writes: GrantRun | UsageCommit) -> GrantWrite | None:
    """The grant's part of a usage write (one record's or a run's): the claim's puts, the draw, or
    the proof that no grant exists; None when the usage does not touch the grant."""
    if writes.new_grant is not None:
        return put_grant(tx, writes.new_grant)
    if writes.draw is not None:
        return GrantWrite(grant=draw_grant(tx, grant[0], writes.draw))
    if writes.expect_no_grant:
        return GrantWrite(claim=tx.check(GrantItem, *claim_key(*grant), GrantItem.pk.does_not_exist()))
    return None


def put_grant(tx: TransactionItems, grant: NewGrant) -> GrantWrite:
    """A new grant, at its own key, and its claim's mark at its claim key: R1 holds by the mark's
    key, which no claim ever had (nor a grant claimed before grants had keys of their own)."""
    return GrantWrite(
        grant=tx.put(mapping.grant_item(grant), GrantItem.pk.does_not_exist()),
        claim=tx.put(mapping.claim_mark_item(grant), ClaimMarkItem.pk.does_not_exist()),
    )


def draw_grant(tx: TransactionItems, account_id: str, draw: GrantDraw) -> ItemRef:
    return tx.update_plain(expressions.draw(draw).operation(plain.key(*grant_key(account_id, draw.model_id))))


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
