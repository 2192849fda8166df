"""The conditions and update actions of the ledger's writes: what each write requires and changes."""

from __future__ import annotations

from typing import Any

from pynamodb.expressions.condition import Condition
from pynamodb.expressions.operand import Path
from pynamodb.expressions.update import Action
from pynamodb.models import Model

from ..domain.state import LedgerStamp
from ..domain.writes import AlertsChange, CallWrite, GrantDraw, HoldClosing, ProfileProof
from ..results import HoldStatus
from . import mapping, plain
from .items import AccountProfileItem, CallItem, GrantItem, HoldItem, UsageItem
from .mapping import period_key
from .plain import Placeholders, UpdateRequest


def activation(account_id: str, now: str) -> list[Action]:
    """Create the profile if need be, keeping the first ``activated_at`` (idempotent)."""
    actions: list[Action] = [
        AccountProfileItem.account_id.set(account_id),
        AccountProfileItem.activated_at.set(AccountProfileItem.activated_at | now),
        AccountProfileItem.postpaid_enabled.set(AccountProfileItem.postpaid_enabled | False),
        AccountProfileItem.updated_at.set(AccountProfileItem.updated_at | now),
        AccountProfileItem.item_type.set(AccountProfileItem),
    ]
    return actions


def activated() -> Condition:
    return AccountProfileItem.activated_at.exists()


def postpaid(enabled: bool, now: str) -> list[Action]:
    return [AccountProfileItem.postpaid_enabled.set(enabled), AccountProfileItem.updated_at.set(now)]


def postpaid_is(enabled: bool, revivals: int = 0) -> Condition:
    """The postpaid switch is as the split of a usage assumed (no profile reads as off), and no
    reversal gave units back to an exhausted grant of the account since (``revivals``, R17)."""
    on: Condition = AccountProfileItem.postpaid_enabled == True  # noqa: E712 (a DynamoDB condition)
    off: Condition = AccountProfileItem.pk.does_not_exist() | (AccountProfileItem.postpaid_enabled == False)  # noqa: E712
    same: Condition = AccountProfileItem.revivals == revivals
    if revivals == 0:
        same = AccountProfileItem.revivals.does_not_exist() | same
    switch: Condition = (on if enabled else off) & same
    return switch


def thresholds_are(thresholds: tuple[int, ...] | None) -> Condition:
    """The profile's alert thresholds are ``thresholds`` (None: it has none of its own)."""
    if thresholds is None:
        unset: Condition = AccountProfileItem.balance_low_percent.does_not_exist()
        return unset
    same: Condition = AccountProfileItem.balance_low_percent == list[Any](thresholds)
    return same


def profile_proof(proof: ProfileProof) -> Condition:
    """What a write needs of its account's profile (ProfileProof): at least one part is asked."""
    parts: list[Condition] = []
    if proof.claims:
        parts.append(thresholds_are(proof.alert_thresholds))
    if proof.require_activation:
        parts.append(activated())
    if proof.expect_postpaid is not None:
        parts.append(postpaid_is(proof.expect_postpaid, proof.revivals))
    condition = parts[0]
    for part in parts[1:]:
        condition &= part
    return condition


def count_claims(proof: ProfileProof) -> list[Action]:
    """A claim adds its grants to ``grants_claimed``, creating the profile if need be (an
    automatic claim needs no activation) as one that reads postpaid off."""
    actions: list[Action] = [
        AccountProfileItem.grants_claimed.set((AccountProfileItem.grants_claimed | 0) + proof.claims),
        AccountProfileItem.account_id.set(proof.account_id),
        AccountProfileItem.postpaid_enabled.set(AccountProfileItem.postpaid_enabled | False),
        AccountProfileItem.item_type.set(AccountProfileItem),
    ]
    return actions


def alerts_on_profile(change: AlertsChange) -> tuple[list[Action], Condition]:
    """Set the account's thresholds, on an activated profile that has counted no grant since the
    change read the account's grants."""
    actions: list[Action] = [
        AccountProfileItem.balance_low_percent.set(list[Any](change.thresholds)),
        AccountProfileItem.updated_at.set(change.now),
    ]
    claimed = AccountProfileItem.grants_claimed
    same: Condition = claimed.does_not_exist() if change.expected_grants_claimed is None else (
        claimed == change.expected_grants_claimed)  # fmt: skip
    return actions, activated() & same


def alerts_on_grant(thresholds: tuple[int, ...]) -> tuple[list[Action], Condition]:
    """A grant takes its account's new thresholds (grants are never deleted: it exists)."""
    actions: list[Action] = [GrantItem.alert_thresholds.set(list[Any](thresholds))]
    exists: Condition = GrantItem.pk.exists()
    return actions, exists


def draw(grant_draw: GrantDraw) -> UpdateRequest:
    """Take the draw's free units from a grant that has not expired, and move its hold periods.

    Exact: ``remaining`` and ``held_total`` must be the expected ones (both are then written as
    values; at zero the grant also leaves the expiry index). Relaxed: ``unreserved`` must only
    cover what the draw takes beyond the holds it settles. Either way each period is moved by a
    proven relative amount: a settle's period still holds its units, a cleared period its value."""
    d, update = grant_draw, UpdateRequest()
    p = update.placeholders
    update.require(f"{p.name('expires_at')} > {p.string(d.now)}")
    used = p.name("used")
    update.set(used, f"{used} + {p.number(d.free)}")
    _period_actions(update, d)
    for period in d.releases:
        update.require(f"{_period(p, period.until)} >= {p.number(period.units)}")
    for period in d.clears:
        update.require(f"{_period(p, period.until)} = {p.number(period.units)}")
    if d.entries:
        update.require(_entries_text(p, d.expected_entries))
        update.set(p.name("entries"), p.number(d.expected_entries + d.entries))
    remaining, held_total, unreserved = p.name("remaining"), p.name("held_total"), p.name("unreserved")
    if d.exact:
        update.require(f"{remaining} = {p.number(d.expected_remaining)}")
        update.require(f"{held_total} = {p.number(d.expected_held)}")
        update.set(remaining, p.number(d.left))
        update.set(held_total, p.number(d.held_after))
        update.set(unreserved, p.number(d.left - d.held_after))
        if d.left == 0:
            update.remove(p.name("expiry_shard"))
        return update
    taken = d.free + d.held_change
    if taken > 0:
        update.require(f"{unreserved} >= {p.number(taken)}")
    update.set(remaining, f"{remaining} - {p.number(d.free)}")
    update.set(held_total, f"{held_total} + {p.number(d.held_change)}")
    update.set(unreserved, f"{unreserved} - {p.number(taken)}")
    return update


def _period_actions(update: UpdateRequest, d: GrantDraw) -> None:
    p = update.placeholders
    for period in d.clears:
        update.remove(_period(p, period.until))
    for period in d.releases:
        path = _period(p, period.until)
        update.set(path, f"{path} - {p.number(period.units)}")
    if d.adds is not None:
        added = _period(p, d.adds.until)
        update.set(added, f"if_not_exists ({added}, {p.number(0)}) + {p.number(d.adds.units)}")


def _period(p: Placeholders, until: str) -> str:
    """``held_units.<period end>``: every path element is an expression attribute name."""
    return p.path("held_units", period_key(until))


def _entries_text(p: Placeholders, expected: int) -> str:
    """entries_are's text: the grant's ledger ends at entry ``expected`` (none before v3: 1)."""
    entries = p.name("entries")
    same = f"{entries} = {p.number(expected)}"
    return f"(attribute_not_exists ({entries}) OR {same})" if expected == 1 else same


def return_held(closing: HoldClosing) -> tuple[list[Action], Condition]:
    """Give a released hold's units back: out of its period, back to ``unreserved``."""
    period = Path([GrantItem.held_units.attr_name, period_key(closing.period)])
    actions: list[Action] = [
        period.set(period - closing.held),
        GrantItem.held_total.set(GrantItem.held_total - closing.held),
        GrantItem.unreserved.set(GrantItem.unreserved + closing.held),
    ]
    holds: Condition = period >= closing.held
    return actions, holds


def close_hold(closing: HoldClosing) -> tuple[list[Action], Condition]:
    """An open hold becomes ``closing.status`` and leaves the open-holds index. A release needs
    the hold live and no usage on its item; a timeout (the sweep) its ``expires_at`` passed."""
    actions: list[Action] = [
        CallItem.status.set(closing.status),
        CallItem.closed_at.set(closing.now),
        CallItem.open_shard.remove(),
    ]
    condition: Condition = CallItem.status == HoldStatus.OPEN.value
    if closing.due_by is not None:
        return actions, condition & (CallItem.expires_at <= closing.due_by)
    live: Condition = (CallItem.expires_at > closing.now) & CallItem.recorded_at.does_not_exist()
    return actions, condition & live


def usage_on_hold(call: CallWrite) -> UpdateRequest:
    """A usage written onto its request's hold item: as the plan read it, with no usage yet. A live
    hold ends ``settled``; an ended hold keeps how it ended (the usage is plain usage, R15)."""
    hold, now, update = call.hold, call.usage.recorded_at, UpdateRequest()
    assert hold is not None
    p = update.placeholders
    for name, value in mapping.usage_fields(call.usage).items():
        if value is not None:
            update.set(p.name(name), p.value(plain.attribute_value(CallItem, name, value)))
    update.set(p.name("item_type"), p.string(plain.discriminator(UsageItem)))
    update.require(f"{p.name('item_type')} = {p.string(plain.discriminator(HoldItem))}")
    update.require(f"{p.name('account_id')} = {p.string(hold.account_id)}")
    update.require(f"{p.name('model_id')} = {p.string(hold.model_id)}")
    status = p.name("status")
    if call.voided or call.settles:  # a void ended it (R18): the usage is plain; else it settles it
        ended = HoldStatus.VOIDED if call.voided else HoldStatus.SETTLED
        update.set(status, p.string(ended.value))
        update.set(p.name("closed_at"), p.string(now))
        update.remove(p.name("open_shard"))
        update.require(f"{status} = {p.string(HoldStatus.OPEN.value)}")
        if call.settles and not call.voided:
            update.require(f"{p.name('expires_at')} > {p.string(now)}")
            update.require(f"{p.name('held')} = {p.number(hold.held)}")
        return update
    update.require(f"({status} <> {p.string(HoldStatus.OPEN.value)} OR {p.name('expires_at')} <= {p.string(now)})")
    return update


def entries_are(expected: int) -> Condition:
    """The grant's ledger ends at entry ``expected`` (a grant of before v3 has no count: 1)."""
    condition: Condition = GrantItem.entries == expected
    if expected == 1:
        condition = GrantItem.entries.does_not_exist() | condition
    return condition


def expiry(grant: LedgerStamp, as_of: str, now: str) -> tuple[list[Action], Condition]:
    """Move exactly ``grant.remaining``, the whole positive remainder of a due grant, to
    ``expired``, as the ledger's next entry after ``grant.sequence``."""
    remaining = grant.remaining
    actions: list[Action] = [
        GrantItem.entries.set(grant.sequence + 1),
        GrantItem.remaining.set(0),
        GrantItem.expired.set(grant.expired + remaining),
        GrantItem.expired_recorded_at.set(now),
        GrantItem.expiry_shard.remove(),
        # Every hold ends by its grant's expires_at: nothing is reserved from then on (R15).
        GrantItem.held_units.set({}),
        GrantItem.held_total.set(0),
        GrantItem.unreserved.set(0),
    ]
    exact: Condition = (GrantItem.remaining == remaining) & entries_are(grant.sequence)
    exact &= (GrantItem.used == grant.used) & (GrantItem.expired == grant.expired)
    return actions, exact & (GrantItem.remaining > 0) & (GrantItem.expires_at <= as_of)


def expiring_soon_unmarked(as_of: str) -> Condition:
    """A grant not yet marked as expiring soon, with a remainder, not yet due at ``as_of``."""
    unmarked: Condition = GrantItem.pk.exists() & GrantItem.expiring_soon_notified_at.does_not_exist()
    qualifies: Condition = unmarked & (GrantItem.remaining > 0) & (GrantItem.expires_at > as_of)
    return qualifies


def unset(model: type[Model], attribute: Any) -> Condition:
    """The item exists and ``attribute`` (set once, later) is not set yet."""
    condition: Condition = model.pk.exists() & attribute.does_not_exist()  # type: ignore[attr-defined]
    return condition


def exhausted() -> Condition:
    empty: Condition = GrantItem.remaining == 0
    return empty
