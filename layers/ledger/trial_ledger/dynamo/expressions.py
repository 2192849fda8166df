"""The conditions and update actions of the ledger's writes: what each write requires and changes."""

from __future__ import annotations

from typing import Any

from pynamodb.expressions.condition import Condition
from pynamodb.expressions.operand import Path
from pynamodb.expressions.update import Action
from pynamodb.models import Model

from ..domain.state import HeldEntry
from ..domain.writes import GrantDraw, HoldClosing
from ..results import HoldStatus
from .items import AccountProfileItem, GrantItem, HoldItem


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


def postpaid_is(enabled: bool) -> Condition:
    """The postpaid switch is as the split of a usage assumed (no profile reads as off)."""
    on: Condition = AccountProfileItem.postpaid_enabled == True  # noqa: E712 (a DynamoDB condition)
    off: Condition = AccountProfileItem.pk.does_not_exist() | (AccountProfileItem.postpaid_enabled == False)  # noqa: E712
    return on if enabled else off


def draw(grant_draw: GrantDraw) -> tuple[list[Action], Condition]:
    """Take the draw's free units from a grant that has not expired, and move its hold entries.

    Exact: ``remaining`` and ``held_total`` must be the expected ones (both are then written as
    values; at zero the grant also leaves the expiry index), and every timed-out entry the plan
    counted as free must still be there. Relaxed: ``unreserved`` must only cover what the draw
    takes beyond its own hold. Either way a plain draw proves its request has no hold (one may
    have appeared since the plan: it must be settled, not bypassed)."""
    d = grant_draw
    condition: Condition = GrantItem.expires_at > d.now
    actions: list[Action] = [GrantItem.used.set(GrantItem.used + d.free), *_entry_actions(d)]
    for settled in d.settles:
        condition &= _holds(settled, d.now)
    # Every entry holds at least one unit, so an exact draw that pins ``held_total`` at 0 proves
    # that no hold of any request exists: the proofs one by one are only needed beside holds.
    if not (d.exact and d.expected_held == 0):
        cleared = {dead.request_id for dead in d.clears}
        for request_id in d.unheld:
            if request_id not in cleared:
                condition &= _units(request_id).does_not_exist()
    if d.exact:
        condition &= (GrantItem.remaining == d.expected_remaining) & (GrantItem.held_total == d.expected_held)
        for dead in d.clears:
            condition &= _units(dead.request_id).exists()
        actions += [GrantItem.remaining.set(d.left), GrantItem.held_total.set(d.held_after),
                    GrantItem.unreserved.set(d.left - d.held_after)]  # fmt: skip
        if d.left == 0:
            actions.append(GrantItem.expiry_shard.remove())
        return actions, condition
    taken = d.free + d.held_change
    if taken > 0:
        condition &= GrantItem.unreserved >= taken
    actions += [GrantItem.remaining.set(GrantItem.remaining - d.free),
                GrantItem.held_total.set(GrantItem.held_total + d.held_change),
                GrantItem.unreserved.set(GrantItem.unreserved - taken)]  # fmt: skip
    return actions, condition


def _holds(entry: HeldEntry, now: str) -> Condition:
    """The request's hold still reserves ``entry.units`` at ``now``."""
    units: Condition = _units(entry.request_id) == entry.units
    both: Condition = units & (_until(entry.request_id) > now)
    return both


def _entry_actions(d: GrantDraw) -> list[Action]:
    actions: list[Action] = []
    for gone in (*d.clears, *d.settles):
        actions += [_units(gone.request_id).remove(), _until(gone.request_id).remove()]
    if d.adds is not None:
        actions += [_units(d.adds.request_id).set(d.adds.units), _until(d.adds.request_id).set(d.adds.until)]
    return actions


def _units(request_id: str) -> Path:
    """``held_units.<request_id>``: every path element is an expression attribute name."""
    return Path([GrantItem.held_units.attr_name, request_id])


def _until(request_id: str) -> Path:
    return Path([GrantItem.held_until.attr_name, request_id])


def return_held(closing: HoldClosing) -> tuple[list[Action], Condition]:
    """Remove a closing hold's entry and give its units back to ``unreserved``."""
    rid = closing.request_id
    actions: list[Action] = [
        _units(rid).remove(),
        _until(rid).remove(),
        GrantItem.held_total.set(GrantItem.held_total - closing.held),
        GrantItem.unreserved.set(GrantItem.unreserved + closing.held),
    ]
    entry: Condition = _units(rid) == closing.held
    return actions, entry


def close_hold(closing: HoldClosing) -> tuple[list[Action], Condition]:
    """An open hold item becomes ``closing.status`` and leaves the open-holds index."""
    actions: list[Action] = [
        HoldItem.status.set(closing.status),
        HoldItem.closed_at.set(closing.now),
        HoldItem.open_shard.remove(),
    ]
    condition: Condition = HoldItem.status == HoldStatus.OPEN.value
    if closing.due_by is not None:
        condition &= HoldItem.expires_at <= closing.due_by
    return actions, condition


def settle_hold(now: str) -> tuple[list[Action], Condition]:
    """The hold item of a usage that settles it: ``open`` -> ``settled``."""
    actions: list[Action] = [
        HoldItem.status.set(HoldStatus.SETTLED.value),
        HoldItem.closed_at.set(now),
        HoldItem.open_shard.remove(),
    ]
    is_open: Condition = HoldItem.status == HoldStatus.OPEN.value
    return actions, is_open


def expiry(remaining: int, as_of: str, now: str) -> tuple[list[Action], Condition]:
    """Move exactly ``remaining``, the whole positive remainder of a due grant, to ``expired``."""
    actions: list[Action] = [
        GrantItem.remaining.set(0),
        GrantItem.expired.set(GrantItem.expired + remaining),
        GrantItem.expired_recorded_at.set(now),
        GrantItem.expiry_shard.remove(),
        # Every hold ends by its grant's expires_at: nothing is reserved from then on (R15).
        GrantItem.held_units.set({}),
        GrantItem.held_until.set({}),
        GrantItem.held_total.set(0),
        GrantItem.unreserved.set(0),
    ]
    exact: Condition = GrantItem.remaining == remaining
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
