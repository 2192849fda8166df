"""Ledger events: the facts other systems act on, derived from one committed change of one item.

Pure functions over the item's old and new images as the table's stream carries them (attribute
names to plain values; numbers may be ``Decimal``). Whatever the writer knew, the new image is what
counts: a crashed writer, a relaxed draw and a settle by a replay are all seen here, because every
committed change is. Only ``used``, ``remaining``, ``quota``, ``expired``, the timestamps the
ledger writes and the grant's ``alert_thresholds`` (R20: the account's, carried on the grant so
that no record needs a read) are read, and items of any other type are ignored, so new attributes
and item types (holds) change nothing here. Each fact has a deterministic ``event_id`` (docs/events.md)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from ..clock import format_timestamp

SOURCE = "tokenhub.trial-quota"
EVENT_ID_NAMESPACE = uuid.UUID("7f3c2a4e-9d1b-5e8f-a6c0-2b4d6e8f0a1c")
"""Fixed forever: event ids are uuid5(this, "<DetailType>#<identity of the fact>")."""
GRANT_ITEM, USAGE_ITEM, REVERSAL_ITEM, ACTION_ITEM = "grant", "usage", "reversal", "action"
EXPIRED_MARK = "expired_recorded_at"
"""Set once on a grant by its expiry entry; its appearance is TrialExpired."""
ALERT_THRESHOLDS = "alert_thresholds"
"""The account's TrialBalanceLow thresholds on a grant (R20); absent: the deploy's."""
MOVED_FROM = "moved_from"
"""On the put of a grant claimed under its account's key and moved to its own (docs/ledger.md)."""
EXPIRING_SOON_MARK = "expiring_soon_notified_at"
"""Set once on a grant by the nightly run (use_cases/expiry.py); its appearance is TrialExpiringSoon."""

Image = Mapping[str, Any]


class DetailType(StrEnum):
    TRIAL_CLAIMED = "TrialClaimed"
    TRIAL_BALANCE_LOW = "TrialBalanceLow"
    TRIAL_EXHAUSTED = "TrialExhausted"
    TRIAL_EXPIRING_SOON = "TrialExpiringSoon"
    TRIAL_EXPIRED = "TrialExpired"
    USAGE_BILLABLE = "UsageBillable"
    USAGE_REVERSED = "UsageReversed"
    TRIAL_EXTENDED = "TrialExtended"
    TRIAL_VOIDED = "TrialVoided"


@dataclass(frozen=True, slots=True)
class LedgerEvent:
    detail_type: DetailType
    detail: dict[str, Any]
    """JSON-ready: ``event_id``, ``account_id``, ``model_id``, ``occurred_at`` and the fields of
    the detail-type."""

    @property
    def event_id(self) -> str:
        return str(self.detail["event_id"])

    @property
    def occurred_at(self) -> str:
        return str(self.detail["occurred_at"])


def event_id(detail_type: DetailType, *identity: str) -> str:
    """The same fact always gets the same id: a uuid5 of its type and identity."""
    return str(uuid.uuid5(EVENT_ID_NAMESPACE, "#".join([detail_type.value, *identity])))


def stream_time(epoch_seconds: float | None, fallback: datetime) -> str:
    """When the stream says the change was committed (``ApproximateCreationDateTime``)."""
    moment = fallback if epoch_seconds is None else datetime.fromtimestamp(float(epoch_seconds), UTC)
    return format_timestamp(moment)


def derive_events(
    old: Image | None, new: Image | None, thresholds: Sequence[int], committed_at: str
) -> list[LedgerEvent]:
    """The events of one committed change: an INSERT (``old`` empty), a MODIFY, or a REMOVE
    (``new`` empty: nothing). ``committed_at`` dates the facts whose item carries no time of its
    own (a balance crossing a threshold, or reaching zero). ``thresholds`` are the deploy's, for
    grants that carry none of their account's own."""
    if not new:
        return []
    kind = new.get("item_type")
    if kind == GRANT_ITEM and (old or MOVED_FROM not in new):  # a moved grant's put is no new fact
        return _grant_events(old or None, new, thresholds, committed_at)
    # A usage is recorded once: a new call item, or a hold's item that becomes a usage (a settle).
    if kind == USAGE_ITEM and (old or {}).get("item_type") != USAGE_ITEM:
        return _usage_events(new)
    if kind == REVERSAL_ITEM and not old:  # put once per usage (R17)
        return [_reversed(new)]
    if kind == ACTION_ITEM and not old:  # put once per action_id (R18)
        return [_operator_action(new)]
    return []


@dataclass(frozen=True, slots=True)
class _Balances:
    quota: int
    used: int
    remaining: int
    expired: int
    peak: int
    """The highest ``used`` the grant ever had: a reversal lowers ``used``, never this."""

    @classmethod
    def of(cls, image: Image) -> _Balances:
        quota, used, remaining, expired = (int(image[name]) for name in ("quota", "used", "remaining", "expired"))
        return cls(quota, used, remaining, expired, max(used, int(image.get("peak_used") or 0)))

    @classmethod
    def fresh(cls, quota: int) -> _Balances:
        """A grant as claimed, before any draw (an INSERT may already carry its first draw)."""
        return cls(quota, 0, quota, 0, 0)


def _grant_events(old: Image | None, new: Image, thresholds: Sequence[int], committed_at: str) -> list[LedgerEvent]:
    after = _Balances.of(new)
    before = _Balances.of(old) if old else _Balances.fresh(after.quota)
    events = [] if old else [_claimed(new)]
    if after.used > before.used:
        events += [_balance_low(new, after, threshold, committed_at)
                   for threshold in _thresholds_of(new, thresholds) if _crossed(before, after, threshold)]  # fmt: skip
        if before.peak < after.quota and after.remaining == 0:  # once per grant, reversals or not
            events.append(_fact(DetailType.TRIAL_EXHAUSTED, new, committed_at, used=after.used, quota=after.quota))
    if EXPIRED_MARK in new and not (old and EXPIRED_MARK in old):  # not a reversal's units on an expired grant
        expired = {"expired_quantity": after.expired - before.expired, "used": after.used, "quota": after.quota}
        events.append(_fact(DetailType.TRIAL_EXPIRED, new, str(new["expired_recorded_at"]), **expired))
    if EXPIRING_SOON_MARK in new and not (old and EXPIRING_SOON_MARK in old):
        soon = {"remaining": after.remaining, "expires_at": str(new["expires_at"])}
        events.append(_fact(DetailType.TRIAL_EXPIRING_SOON, new, str(new[EXPIRING_SOON_MARK]), **soon))
    return events


def _thresholds_of(grant: Image, default: Sequence[int]) -> list[int]:
    """The thresholds the grant carries as this change committed (its account's, R20), else the
    deploy's: a crossing is judged by those, so that a later change of them leaves it as it was."""
    own = grant.get(ALERT_THRESHOLDS)
    return sorted({int(value) for value in (default if own is None else own)})


def _crossed(before: _Balances, after: _Balances, threshold: int) -> bool:
    """Whether this change first brought the used share to ``threshold`` percent (exactly, in
    integers: used / quota >= threshold / 100)."""
    return before.peak * 100 < threshold * after.quota <= after.peak * 100


def _claimed(new: Image) -> LedgerEvent:
    return _fact(
        DetailType.TRIAL_CLAIMED, new, str(new["claimed_at"]), claim_method=str(new["claim_method"]),
        quota=int(new["quota"]), unit=str(new["unit"]), claimed_at=str(new["claimed_at"]),
        expires_at=str(new["expires_at"]),
    )  # fmt: skip


def _balance_low(new: Image, after: _Balances, threshold: int, committed_at: str) -> LedgerEvent:
    return _fact(
        DetailType.TRIAL_BALANCE_LOW, new, committed_at, str(threshold), threshold_percent=threshold,
        used=after.used, remaining=after.remaining, quota=after.quota,
    )  # fmt: skip


def _fact(detail_type: DetailType, grant: Image, occurred_at: str, *identity: str, **fields: Any) -> LedgerEvent:
    """A fact about one grant: its id is the type, account, model (and ``identity``)."""
    account_id, model_id = str(grant["account_id"]), str(grant["model_id"])
    detail = {
        "event_id": event_id(detail_type, account_id, model_id, *identity),
        "account_id": account_id,
        "model_id": model_id,
        "occurred_at": occurred_at,
    }
    return LedgerEvent(detail_type, detail | fields)


def _usage_events(new: Image) -> list[LedgerEvent]:
    """A new usage record with a billable part is the postpaid billing feed, once per request_id."""
    billable = int(new["billable"])
    if billable <= 0:
        return []
    request_id = str(new["request_id"])
    sub_account_id = new.get("sub_account_id")
    detail = {
        "event_id": event_id(DetailType.USAGE_BILLABLE, request_id),
        "account_id": str(new["account_id"]),
        "model_id": str(new["model_id"]),
        "occurred_at": str(new["recorded_at"]),
        "request_id": request_id,
        "sub_account_id": None if sub_account_id is None else str(sub_account_id),
        "quantity": int(new["quantity"]),
        "billable": billable,
        "charge": {"currency": str(new["currency"]), "amount": str(new["charge"])},
        "recorded_at": str(new["recorded_at"]),
    }
    return [LedgerEvent(DetailType.USAGE_BILLABLE, detail)]


def _reversed(new: Image) -> LedgerEvent:
    """A usage reversed: the free units returned or expired, and the credit of its billable part."""
    request_id = str(new["request_id"])
    detail = {
        "event_id": event_id(DetailType.USAGE_REVERSED, request_id),
        "account_id": str(new["account_id"]),
        "model_id": str(new["model_id"]),
        "occurred_at": str(new["recorded_at"]),
        "request_id": request_id,
        "reason": str(new["reason"]),
        "free_returned": int(new["free_returned"]),
        "free_expired": int(new["free_expired"]),
        "billable": int(new["billable"]),
        "charge": {"currency": str(new["currency"]), "amount": str(new["charge"])},
    }
    return LedgerEvent(DetailType.USAGE_REVERSED, detail)


def _operator_action(new: Image) -> LedgerEvent:
    """An operator's extension (once per action) or void (once per grant) of a grant (R18)."""
    who = {"action_id": str(new["action_id"]), "actor": str(new["actor"]), "reason": str(new["reason"])}
    if new["action_kind"] == "extension":
        moved = {"previous_expires_at": str(new["previous_expires_at"]), "expires_at": str(new["new_expires_at"])}
        return _fact(DetailType.TRIAL_EXTENDED, new, str(new["recorded_at"]), who["action_id"], **who, **moved)
    used, remaining, expired = (int(new[name]) for name in ("balance_used", "balance_remaining", "balance_expired"))
    ended = {"expired_quantity": int(new["quantity"]), "used": used, "quota": used + remaining + expired}
    return _fact(DetailType.TRIAL_VOIDED, new, str(new["recorded_at"]), **who, **ended)
