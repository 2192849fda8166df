"""Maps between PynamoDB items and the ledger's plain values, in both directions."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from pynamodb.attributes import MapAttribute

from ..clock import format_timestamp, parse_timestamp
from ..config.settings import load_settings
from ..domain.state import (
    CallRecord,
    GrantState,
    HeldPeriod,
    HoldRecord,
    LedgerStamp,
    ProfileState,
    UsageRecord,
)
from ..domain.writes import NewGrant

if TYPE_CHECKING:
    from ..domain.index_entries import ExpiryCandidate
from ..results import ClaimMethod, FundingSource, HoldStatus
from .corrections.entry_fields import entry_fields, ledger_stamp, reversal_fields, reversal_of
from .items import (
    AccountProfileItem,
    CallItem,
    ClaimMarkItem,
    ExpiryItem,
    GrantItem,
    HoldItem,
    UsageItem,
)
from .keys import (
    CALL_SORT_KEY,
    account_key,
    call_key,
    claim_key,
    expiry_shard_of,
    expiry_sort_key,
    grant_key,
    open_shard_of,
    usage_order,
    usage_shard_key,
)

RawItem = dict[str, dict[str, Any]]


def profile_and_grants(account_id: str, items: Iterable[Any]) -> tuple[ProfileState, list[GrantState]]:
    """The profile (or its absence) and the grants among an account's items."""
    profile = ProfileState.absent(account_id)
    grants: list[GrantState] = []
    for item in items:
        if isinstance(item, AccountProfileItem):
            profile = profile_state(item)
        elif isinstance(item, GrantItem):
            grants.append(grant_state(item))
    return profile, grants


def profile_state(item: AccountProfileItem) -> ProfileState:
    claimed = None if item.grants_claimed is None else int(item.grants_claimed)
    return ProfileState(item.account_id, item.activated_at, bool(item.postpaid_enabled),
                        revivals=int(item.revivals or 0), balance_low_percent=_thresholds(item.balance_low_percent),
                        grants_claimed=claimed)  # fmt: skip


def profile_from_raw(account_id: str, raw: RawItem | None) -> ProfileState:
    """A profile as a refused write returned it (absent when it carried none)."""
    return profile_state(AccountProfileItem.from_raw_data(raw)) if raw else ProfileState.absent(account_id)


def _thresholds(values: Any) -> tuple[int, ...] | None:
    return None if values is None else tuple(int(value) for value in values)


def grant_state(item: GrantItem) -> GrantState:
    return GrantState(
        account_id=item.account_id,
        model_id=item.model_id,
        unit=item.unit,
        quota=int(item.quota),
        used=int(item.used),
        remaining=int(item.remaining),
        expired=int(item.expired),
        claim_method=ClaimMethod(item.claim_method),
        claimed_at=item.claimed_at,
        expires_at=item.expires_at,
        holds=_periods(item),
        entries=1 if item.entries is None else int(item.entries),
        voided_at=item.voided_at,
        peak_used=int(item.peak_used or 0),
        alert_thresholds=_thresholds(item.alert_thresholds),
    )


def _periods(item: GrantItem) -> tuple[HeldPeriod, ...]:
    units = _as_dict(item.held_units)
    return tuple(sorted(HeldPeriod(period_until(key), int(held)) for key, held in units.items()))


def period_key(until: str) -> str:
    """A hold period's key in ``held_units``: its end in epoch seconds (short: the item stays small)."""
    return str(int(parse_timestamp(until).timestamp()))


def period_until(key: str) -> str:
    return format_timestamp(datetime.fromtimestamp(int(key), UTC))


def _as_dict(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    return dict(value.as_dict()) if isinstance(value, MapAttribute) else dict(value)  # type: ignore[no-untyped-call]


def grant_from_raw(raw: RawItem | None) -> GrantState | None:
    """A grant as a refused write returned it (None when the refusal carried no item, or an item
    that is not a grant: a claim's mark, whose grant must be read)."""
    return grant_state(GrantItem.from_raw_data(raw)) if raw and raw.get("item_type") == {"S": "grant"} else None


def call_from_raw(raw: RawItem | None) -> CallRecord | None:
    """A request's item as a refused write returned it (None: no item, or none returned)."""
    return call_record(CallItem.from_raw_data(raw)) if raw else None


def call_record(item: CallItem) -> CallRecord:
    hold = hold_record(item) if item.status is not None else None
    return CallRecord(hold, usage_record(item) if isinstance(item, UsageItem) else None)


def claim_mark_item(grant: NewGrant) -> ClaimMarkItem:
    state = grant.state
    return ClaimMarkItem(*claim_key(state.account_id, state.model_id), account_id=state.account_id,
                         model_id=state.model_id, claimed_at=state.claimed_at)  # fmt: skip


def grant_item(grant: NewGrant) -> GrantItem:
    state = grant.state
    return GrantItem(
        *grant_key(state.account_id, state.model_id),
        account_id=state.account_id,
        model_id=state.model_id,
        unit=state.unit,
        quota=state.quota,
        used=state.used,
        remaining=state.remaining,
        expired=state.expired,
        claim_method=state.claim_method.value,
        claimed_at=state.claimed_at,
        claimed_by=grant.claimed_by,
        expires_at=state.expires_at,
        # Only a grant with a remainder is in the (sparse) expiry index.
        expiry_shard=expiry_shard_of(state.account_id, state.model_id) if state.remaining > 0 else None,
        held_units={period_key(period.until): period.units for period in state.holds},
        held_total=state.held_total,
        unreserved=state.unreserved,
        entries=state.entries,
        voided_at=state.voided_at,
        peak_used=state.peak_used or None,
        alert_thresholds=None if state.alert_thresholds is None else list(state.alert_thresholds),
    )


def expiry_item(candidate: ExpiryCandidate, quantity: int, as_of: str, now: str, entry: LedgerStamp) -> ExpiryItem:
    return ExpiryItem(
        account_key(candidate.account_id),
        expiry_sort_key(candidate.model_id),
        account_id=candidate.account_id,
        model_id=candidate.model_id,
        quantity=quantity,
        expires_at=candidate.expires_at,
        as_of=as_of,
        recorded_at=now,
        **entry_fields(candidate.account_id, candidate.model_id, entry),
    )


def usage_item(usage: UsageRecord) -> UsageItem:
    """A usage record as a new call item."""
    return UsageItem(call_key(usage.request_id), CALL_SORT_KEY, **usage_fields(usage))


def usage_fields(usage: UsageRecord) -> dict[str, Any]:
    """The attributes a usage record sets on its call item (new, or its hold's)."""
    return {
        "request_id": usage.request_id,
        "account_id": usage.account_id,
        "model_id": usage.model_id,
        "sub_account_id": usage.sub_account_id,
        "quantity": usage.quantity,
        "free": usage.free,
        "billable": usage.billable,
        "unbilled_overage": usage.unbilled_overage,
        "currency": usage.currency,
        "unit_price": usage.unit_price,
        "charge": usage.charge,
        "free_remaining": usage.free_remaining,
        "auto_claimed": usage.auto_claimed,
        "recorded_at": usage.recorded_at,
        "fingerprint": usage.fingerprint,
        "write_id": usage.write_id,
        "usage_account": usage_shard_key(usage.account_id, usage.request_id, load_settings().usage_index_shards.write),
        "usage_order": usage_order(usage.recorded_at, usage.request_id),
        **entry_fields(usage.account_id, usage.model_id, usage.entry),
        **(reversal_fields(usage.reversal) if usage.reversal else {}),
    }


def usage_record(item: CallItem) -> UsageRecord:
    return UsageRecord(
        request_id=item.request_id,
        account_id=item.account_id,
        model_id=item.model_id,
        sub_account_id=item.sub_account_id,
        quantity=int(item.quantity),
        free=int(item.free),
        billable=int(item.billable),
        unbilled_overage=int(item.unbilled_overage),
        currency=item.currency,
        unit_price=item.unit_price,
        charge=item.charge,
        free_remaining=None if item.free_remaining is None else int(item.free_remaining),
        auto_claimed=bool(item.auto_claimed),
        recorded_at=item.recorded_at,
        fingerprint=item.fingerprint,
        write_id=item.write_id,
        entry=ledger_stamp(item),
        reversal=reversal_of(item),
    )


def hold_item(hold: HoldRecord) -> HoldItem:
    return HoldItem(call_key(hold.request_id), CALL_SORT_KEY, **hold_fields(hold))


def hold_fields(hold: HoldRecord) -> dict[str, Any]:
    """The attributes of a hold's new call item."""
    is_open = hold.status is HoldStatus.OPEN and hold.held > 0
    return {
        "request_id": hold.request_id,
        "account_id": hold.account_id,
        "model_id": hold.model_id,
        "hold_sub_account_id": hold.sub_account_id,
        "estimate": hold.estimate,
        "held": hold.held,
        "source": hold.source.value,
        "free_available": hold.free_available,
        "hold_auto_claimed": hold.auto_claimed,
        "created_at": hold.created_at,
        "expires_at": hold.expires_at,
        "ttl_seconds": hold.ttl_seconds,
        "status": hold.status.value,
        "closed_at": hold.closed_at,
        "hold_fingerprint": hold.fingerprint,
        "hold_write_id": hold.write_id,
        # Only an open hold that reserves units is in the (sparse) open-holds index.
        "open_shard": open_shard_of(hold.request_id) if is_open else None,
    }


def hold_record(item: CallItem) -> HoldRecord:
    """The hold of a call item that has one (``status`` set)."""
    return HoldRecord(
        request_id=item.request_id,
        account_id=item.account_id,
        model_id=item.model_id,
        sub_account_id=item.hold_sub_account_id,
        estimate=int(item.estimate),
        held=int(item.held),
        source=FundingSource(item.source),
        free_available=None if item.free_available is None else int(item.free_available),
        auto_claimed=bool(item.hold_auto_claimed),
        created_at=str(item.created_at),
        expires_at=str(item.expires_at),
        ttl_seconds=int(item.ttl_seconds),
        status=HoldStatus(item.status),
        closed_at=item.closed_at,
        fingerprint=str(item.hold_fingerprint),
        write_id=str(item.hold_write_id),
    )
