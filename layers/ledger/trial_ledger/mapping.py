"""Maps between PynamoDB items and the ledger's plain values, in both directions."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .keys import (
    USAGE_KEY_PREFIX,
    USAGE_SORT_KEY,
    account_key,
    expiry_shard_of,
    expiry_sort_key,
    grant_sort_key,
    usage_key,
    usage_order,
)
from .records import AccountProfileItem, ExpiryItem, GrantItem, LedgerItem, UsageItem
from .state import ExpiryCandidate, GrantState, ProfileState, UsageRecord
from .views import ClaimMethod
from .writes import NewGrant

RawItem = dict[str, dict[str, Any]]


def profile_state(item: AccountProfileItem) -> ProfileState:
    return ProfileState(item.account_id, item.activated_at, bool(item.postpaid_enabled))


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
    )


def grant_from_raw(raw: RawItem | None) -> GrantState | None:
    """A grant as a refused write returned it (None when the refusal carried no item)."""
    return grant_state(GrantItem.from_raw_data(raw)) if raw else None


def usage_from_raw(raw: RawItem | None) -> UsageRecord | None:
    return usage_record(UsageItem.from_raw_data(raw)) if raw else None


def expiry_candidate(item: GrantItem) -> ExpiryCandidate:
    return ExpiryCandidate(item.account_id, item.model_id, int(item.quota), item.expires_at)


def grant_item(grant: NewGrant) -> GrantItem:
    state = grant.state
    return GrantItem(
        account_key(state.account_id),
        grant_sort_key(state.model_id),
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
    )


def expiry_item(candidate: ExpiryCandidate, quantity: int, as_of: str, now: str) -> ExpiryItem:
    return ExpiryItem(
        account_key(candidate.account_id),
        expiry_sort_key(candidate.model_id),
        account_id=candidate.account_id,
        model_id=candidate.model_id,
        quantity=quantity,
        expires_at=candidate.expires_at,
        as_of=as_of,
        recorded_at=now,
    )


def usage_item(usage: UsageRecord) -> UsageItem:
    return UsageItem(
        usage_key(usage.request_id),
        USAGE_SORT_KEY,
        request_id=usage.request_id,
        account_id=usage.account_id,
        model_id=usage.model_id,
        sub_account_id=usage.sub_account_id,
        quantity=usage.quantity,
        free=usage.free,
        billable=usage.billable,
        unbilled_overage=usage.unbilled_overage,
        currency=usage.currency,
        unit_price=usage.unit_price,
        charge=usage.charge,
        free_remaining=usage.free_remaining,
        auto_claimed=usage.auto_claimed,
        recorded_at=usage.recorded_at,
        fingerprint=usage.fingerprint,
        write_id=usage.write_id,
        usage_account=usage.account_id,
        usage_order=usage_order(usage.recorded_at, usage.request_id),
    )


def usage_record(item: UsageItem) -> UsageRecord:
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
    )


def usage_index_start(account_id: str, after: tuple[str, str]) -> dict[str, Any]:
    """The exclusive start key of a usage index query: just after ``(usage_order, request_id)``."""
    order, request_id = after
    return {
        UsageItem.pk.attr_name: {"S": usage_key(request_id)},
        UsageItem.sk.attr_name: {"S": USAGE_SORT_KEY},
        UsageItem.usage_order.attr_name: {"S": order},
        UsageItem.usage_account.attr_name: {"S": account_id},
    }


def usage_position(record: UsageRecord) -> tuple[str, str]:
    """Where a listing resumes after ``record``."""
    return usage_order(record.recorded_at, record.request_id), record.request_id


def usage_position_of_key(key: dict[str, Any]) -> tuple[str, str]:
    """Where a listing resumes after the index item a Query evaluated last."""
    return key[UsageItem.usage_order.attr_name]["S"], key[UsageItem.pk.attr_name]["S"].removeprefix(USAGE_KEY_PREFIX)


def profile_and_grants(account_id: str, items: Iterable[LedgerItem]) -> tuple[ProfileState, list[GrantState]]:
    """The profile (absent when not stored) and the grants among one account's items."""
    profile = ProfileState.absent(account_id)
    grants: list[GrantState] = []
    for item in items:
        if isinstance(item, AccountProfileItem):
            profile = profile_state(item)
        elif isinstance(item, GrantItem):
            grants.append(grant_state(item))
    return profile, grants
