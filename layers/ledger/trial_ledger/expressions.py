"""The conditions and update actions of the ledger's writes: what each write requires and changes."""

from __future__ import annotations

from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action

from .records import AccountProfileItem, GrantItem, UsageItem
from .writes import GrantDraw


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


def postpaid_is(enabled: bool) -> Condition:
    """The postpaid switch is as the split of a usage assumed (no profile reads as off)."""
    on: Condition = AccountProfileItem.postpaid_enabled == True  # noqa: E712 (a DynamoDB condition)
    off: Condition = AccountProfileItem.pk.does_not_exist() | (AccountProfileItem.postpaid_enabled == False)  # noqa: E712
    return on if enabled else off


def draw(grant_draw: GrantDraw) -> tuple[list[Action], Condition]:
    """Take the draw's free units from a grant that has not expired.

    Exact: ``remaining`` must be the expected one, and the new remainder is written as a value
    (at zero the grant also leaves the expiry index). Relaxed: it must only cover the draw."""
    alive: Condition = GrantItem.expires_at > grant_draw.now
    used = GrantItem.used.set(GrantItem.used + grant_draw.free)
    if not grant_draw.exact:
        relaxed: list[Action] = [GrantItem.remaining.set(GrantItem.remaining - grant_draw.free), used]
        return relaxed, (GrantItem.remaining >= grant_draw.free) & alive
    actions: list[Action] = [GrantItem.remaining.set(grant_draw.left), used]
    if grant_draw.left == 0:
        actions.append(GrantItem.expiry_shard.remove())
    return actions, (GrantItem.remaining == grant_draw.expected_remaining) & alive


def expiry(remaining: int, as_of: str, now: str) -> tuple[list[Action], Condition]:
    """Move exactly ``remaining``, the whole positive remainder of a due grant, to ``expired``."""
    actions: list[Action] = [
        GrantItem.remaining.set(0),
        GrantItem.expired.set(GrantItem.expired + remaining),
        GrantItem.expired_recorded_at.set(now),
        GrantItem.expiry_shard.remove(),
    ]
    exact: Condition = GrantItem.remaining == remaining
    return actions, exact & (GrantItem.remaining > 0) & (GrantItem.expires_at <= as_of)


def expiring_soon_unmarked(as_of: str) -> Condition:
    """A grant not yet marked as expiring soon, with a remainder, not yet due at ``as_of``."""
    unmarked: Condition = GrantItem.pk.exists() & GrantItem.expiring_soon_notified_at.does_not_exist()
    qualifies: Condition = unmarked & (GrantItem.remaining > 0) & (GrantItem.expires_at > as_of)
    return qualifies


def unsettled_usage() -> Condition:
    """A usage record whose ``free_remaining`` was left open by a relaxed draw."""
    unsettled: Condition = UsageItem.pk.exists() & UsageItem.free_remaining.does_not_exist()
    return unsettled


def exhausted() -> Condition:
    empty: Condition = GrantItem.remaining == 0
    return empty
