"""Plans an operator's action on a grant (R18): an extension of its validity, or its void.

Each is the grant ledger's next entry, with who did it and why."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from ...clock import format_timestamp, parse_timestamp
from ...correction_results import EntryKind
from ...errors import GrantNotExtendable, GrantNotVoidable, InvalidRequest
from ..state import GrantState, LedgerStamp

MAX_EXTENDED_VALIDITY = timedelta(days=366)
"""An extension moves ``expires_at`` to at most this long after the grant's ``claimed_at``."""


@dataclass(frozen=True, slots=True)
class ActionRecord:
    """An operator action as its item keeps it: the request, and what it did to the grant."""

    action_id: str
    kind: EntryKind
    account_id: str
    model_id: str
    actor: str
    reason: str
    acted_at: str
    fingerprint: str
    previous_expires_at: str
    expires_at: str
    expired_quantity: int = 0
    entry: LedgerStamp | None = None


@dataclass(frozen=True, slots=True)
class CheckedAction:
    """An operator's request, validated: ``expires_at`` only for an extension."""

    action_id: str
    kind: EntryKind
    account_id: str
    model_id: str
    actor: str
    reason: str
    fingerprint: str
    expires_at: str | None = None


@dataclass(frozen=True, slots=True)
class ActionCommit:
    """The action's item (its ledger entry) and the grant's change, in one transaction: the grant's
    ledger must still end at ``expected_entries``."""

    action: ActionRecord
    expected_entries: int
    held_total: int = 0
    """A void: the units its live holds reserved, which it ends with the grant."""


def plan_action(request: CheckedAction, grant: GrantState, now: str) -> ActionCommit:
    """The extension or the void of ``grant`` at ``now``, or the refusal the contract names."""
    if request.kind is EntryKind.EXTENSION:
        return _extension(request, grant, now)
    return _void(request, grant, now)


def _extension(request: CheckedAction, grant: GrantState, now: str) -> ActionCommit:
    if grant.voided_at is not None or grant.is_past_expiry(now):
        raise GrantNotExtendable(grant.account_id, grant.model_id)
    new_expiry = request.expires_at
    assert new_expiry is not None
    latest = format_timestamp(parse_timestamp(grant.claimed_at) + MAX_EXTENDED_VALIDITY)
    if new_expiry <= grant.expires_at or new_expiry > latest:
        raise InvalidRequest(
            f"expires_at must be later than the grant's {grant.expires_at} and at most {latest}", field="expires_at"
        )
    stamp = LedgerStamp(grant.entries + 1, grant.used, grant.remaining, grant.expired)
    return ActionCommit(_record(request, now, grant, stamp, (new_expiry, 0)), grant.entries)


def _void(request: CheckedAction, grant: GrantState, now: str) -> ActionCommit:
    # An expired grant's remainder belongs to its expiry entry (R5), never to a void.
    if grant.voided_at is not None or grant.is_past_expiry(now):
        raise GrantNotVoidable(grant.account_id, grant.model_id)
    stamp = LedgerStamp(grant.entries + 1, grant.used, 0, grant.expired + grant.remaining)
    record = _record(request, now, grant, stamp, (grant.expires_at, grant.remaining))
    return ActionCommit(record, grant.entries, grant.held_total)


def _record(
    request: CheckedAction, now: str, grant: GrantState, stamp: LedgerStamp, outcome: tuple[str, int]
) -> ActionRecord:
    """``outcome``: the grant's ``expires_at`` after the action, and the units it expired."""
    expires_at, expired = outcome
    return ActionRecord(
        action_id=request.action_id,
        kind=request.kind,
        account_id=request.account_id,
        model_id=request.model_id,
        actor=request.actor,
        reason=request.reason,
        acted_at=now,
        fingerprint=request.fingerprint,
        previous_expires_at=grant.expires_at,
        expires_at=expires_at,
        expired_quantity=expired,
        entry=stamp,
    )
