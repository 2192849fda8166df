"""The contract's rules as pure functions: no I/O, no clock of their own."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from ..clock import format_timestamp
from ..config.catalog import ModelSpec
from ..errors import InvalidRequest
from ..limits import ALERT_PERCENT_RANGE, ID_PATTERN, MAX_ALERT_THRESHOLDS, MAX_QUANTITY
from ..results import ClaimMethod, Grant, GrantStatus, StopReason
from .state import GrantState

if TYPE_CHECKING:
    from ..correction_results import ActionAsk


def expiry_of(claimed_at: datetime, validity_days: int) -> str:
    return format_timestamp(claimed_at + timedelta(days=validity_days))


def new_grant(
    account_id: str, model: ModelSpec, method: ClaimMethod, now: datetime, alert_thresholds: tuple[int, ...] | None
) -> GrantState:
    """A grant of the model's trial claimed ``now``: quota and validity are snapshotted (R5), and
    the account's alert thresholds as its profile holds them (R20; the claim's write proves it)."""
    if model.trial is None:
        raise ValueError(f"model {model.model_id!r} has no trial to grant")
    return GrantState(
        account_id=account_id,
        model_id=model.model_id,
        unit=model.unit,
        quota=model.trial.quota,
        used=0,
        remaining=model.trial.quota,
        expired=0,
        claim_method=method,
        claimed_at=format_timestamp(now),
        expires_at=expiry_of(now, model.trial.validity_days),
        alert_thresholds=alert_thresholds,
    )


def effective_grant(state: GrantState, now: str) -> Grant:
    remaining, expired = state.remaining, state.expired
    if state.voided_at is not None:
        status = GrantStatus.VOIDED
    elif state.is_past_expiry(now):
        status = GrantStatus.EXPIRED
        expired, remaining = expired + remaining, 0
    elif remaining == 0:
        status = GrantStatus.EXHAUSTED
    else:
        status = GrantStatus.ACTIVE
    return Grant(
        account_id=state.account_id,
        model_id=state.model_id,
        unit=state.unit,
        quota=state.quota,
        used=state.used,
        remaining=remaining,
        expired=expired,
        status=status,
        claim_method=state.claim_method,
        claimed_at=state.claimed_at,
        expires_at=state.expires_at,
        held=state.held(now),
    )


def stop_reason(model: ModelSpec, grant: GrantState | None, now: str, campaign_open: bool) -> StopReason | None:
    """Why free quota cannot pay for an invocation now, or None when it can (R7).

    An existing grant speaks for itself, whatever the catalog says today. With no grant, a trial
    model in an open campaign is claimed automatically (R3), so there is no stop."""
    if grant is not None:
        return _grant_stop(grant, now)
    if model.trial is None or not campaign_open:
        return StopReason.NO_FREE_QUOTA
    return None


def _grant_stop(grant: GrantState, now: str) -> StopReason | None:
    """A grant's own stop: voided (R18), expired (R5), exhausted, or held by other calls (R13)."""
    if grant.voided_at is not None:
        return StopReason.VOIDED
    if grant.is_past_expiry(now):
        return StopReason.EXPIRED
    if grant.remaining == 0:
        return StopReason.EXHAUSTED
    if grant.available(now) == 0:
        return StopReason.HELD
    return None


@dataclass(frozen=True, slots=True)
class Split:
    """How one usage divides: free units, billable units and unbilled overage (R6)."""

    free: int
    billable: int
    unbilled_overage: int


def split_usage(quantity: int, usable_free: int, postpaid_enabled: bool) -> Split:
    """Free first (R6); the rest is billed when postpaid is on and kept as overage otherwise."""
    free = min(quantity, usable_free)
    rest = quantity - free
    return Split(free=free, billable=rest if postpaid_enabled else 0, unbilled_overage=0 if postpaid_enabled else rest)


def charge_for(billable: int, unit_price: Decimal) -> Decimal:
    return Decimal(billable) * unit_price


def format_money(amount: Decimal) -> str:
    """Exact decimal text, no exponent, no trailing zeros (R10): 6.0E-7 is written 0.0000006."""
    return format(amount.normalize(), "f") if amount else "0"


def hold_fingerprint(
    account_id: str, model_id: str, estimate: int, sub_account_id: str | None, ttl_seconds: int
) -> str:
    """What makes two holds of one ``request_id`` the same request."""
    body = {"account_id": account_id, "model_id": model_id, "estimate": estimate,
            "sub_account_id": sub_account_id, "ttl_seconds": ttl_seconds}  # fmt: skip
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def action_fingerprint(kind: str, ask: ActionAsk, expires_at: str | None) -> str:
    """What makes two requests of one ``action_id`` the same operator action (R18)."""
    body = {"kind": kind, "account_id": ask.account_id, "model_id": ask.model_id, "actor": ask.actor,
            "reason": ask.reason, "expires_at": expires_at}  # fmt: skip
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def usage_fingerprint(account_id: str, model_id: str, quantity: int, sub_account_id: str | None) -> str:
    """What makes two recordings of one ``request_id`` the same request."""
    body = {"account_id": account_id, "model_id": model_id, "quantity": quantity, "sub_account_id": sub_account_id}
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def require_id(value: str, field: str) -> str:
    if not isinstance(value, str) or not ID_PATTERN.fullmatch(value):
        raise InvalidRequest(f"{field} must be 1-128 characters of letters, digits and . _ : @ -", field=field)
    return value


def require_text(value: str, field: str, max_length: int) -> str:
    """A free text of an operator or the gateway (a reason, an actor): 1..``max_length``
    characters, not only blanks."""
    if not isinstance(value, str) or not value.strip() or len(value) > max_length:
        raise InvalidRequest(f"{field} must be 1 to {max_length} characters, not only blanks", field=field)
    return value


def require_quantity(quantity: int, field: str = "quantity") -> int:
    if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= MAX_QUANTITY:
        raise InvalidRequest(f"{field} must be an integer from 1 to {MAX_QUANTITY}", field=field)
    return quantity


def require_thresholds(values: Sequence[int]) -> tuple[int, ...]:
    """An account's TrialBalanceLow thresholds (R20): 1 to 5 distinct integers 1..99, ascending."""
    field = "balance_low_percent"
    if not 1 <= len(values) <= MAX_ALERT_THRESHOLDS:
        raise InvalidRequest(f"name 1 to {MAX_ALERT_THRESHOLDS} thresholds", field=field)
    low, high = ALERT_PERCENT_RANGE.start, ALERT_PERCENT_RANGE.stop - 1
    if not all(type(value) is int and value in ALERT_PERCENT_RANGE for value in values):
        raise InvalidRequest(f"thresholds are integers from {low} to {high}", field=field)
    if len(set(values)) != len(values):
        raise InvalidRequest("thresholds must be distinct", field=field)
    return tuple(sorted(values))
