"""The hot path's plain requests and reads (dynamo/plain.py) against PynamoDB's own: the same item
put, the same state read from the same stored item, field by field."""

from __future__ import annotations

from typing import Any

import pytest

from tests.ledger.test_mapping import GRANT, HOLD, USAGE, _variants
from trial_ledger.domain.state import GrantState, HoldRecord, UsageRecord
from trial_ledger.domain.writes import NewGrant
from trial_ledger.dynamo import mapping, plain
from trial_ledger.dynamo.items import AccountProfileItem, CallItem, GrantItem, HoldItem, UsageItem
from trial_ledger.dynamo.keys import CALL_SORT_KEY, call_key

PROFILES: list[dict[str, Any]] = [
    {},
    {"activated_at": {"S": "2026-03-01T08:00:00.000Z"}, "postpaid_enabled": {"BOOL": True}},
    {"postpaid_enabled": {"BOOL": False}, "revivals": {"N": "3"}, "grants_claimed": {"N": "2"}},
    {"balance_low_percent": {"L": [{"N": "50"}, {"N": "90"}]}, "grants_claimed": {"N": "0"}},
    {"balance_low_percent": {"L": []}, "revivals": {"N": "0"}, "activated_at": {"NULL": True}},
]


def _profile_raw(extra: dict[str, Any]) -> dict[str, Any]:
    return {"PK": {"S": "ACCOUNT#acct"}, "SK": {"S": "PROFILE"}, "item_type": {"S": "profile"},
            "account_id": {"S": "acct"}, **extra}  # fmt: skip


@pytest.mark.parametrize("extra", PROFILES)
def test_a_profile_reads_as_pynamodb_reads_it(extra: dict[str, Any]) -> None:
    raw = _profile_raw(extra)
    assert plain.profile_state(raw) == mapping.profile_state(AccountProfileItem.from_raw_data(raw))


@pytest.mark.parametrize(("field", "grant"), _variants(GRANT), ids=lambda v: v if isinstance(v, str) else "")
def test_a_grant_reads_as_pynamodb_reads_it(field: str, grant: GrantState) -> None:
    raw = mapping.grant_item(NewGrant(grant, None)).serialize()
    assert plain.grant_state(raw) == mapping.grant_state(GrantItem.from_raw_data(raw)) == grant


def test_a_grant_of_before_v3_reads_as_pynamodb_reads_it() -> None:
    """No ``entries``, ``held_units``, ``held_total`` nor ``unreserved``: their defaults."""
    raw = mapping.grant_item(NewGrant(GRANT, None)).serialize()
    for name in ("entries", "held_units", "held_total", "unreserved", "alert_thresholds"):
        raw.pop(name)
    assert plain.grant_state(raw) == mapping.grant_state(GrantItem.from_raw_data(raw))


def test_an_account_read_tells_the_profile_from_the_grants() -> None:
    grant = mapping.grant_item(NewGrant(GRANT, None)).serialize()
    profile, grants = plain.profile_and_grants("acct", [grant, _profile_raw(PROFILES[1])])
    assert (profile, grants) == mapping.profile_and_grants(
        "acct", [GrantItem.from_raw_data(grant), AccountProfileItem.from_raw_data(_profile_raw(PROFILES[1]))]
    )
    assert plain.profile_and_grants("acct", []) == mapping.profile_and_grants("acct", [])


def _pynamodb_put(item: CallItem) -> dict[str, Any]:
    put: dict[str, Any] = item.get_save_kwargs_from_instance(
        condition=CallItem.pk.does_not_exist(), return_values_on_condition_failure="ALL_OLD"
    )
    return put


@pytest.mark.parametrize(("field", "usage"), _variants(USAGE), ids=lambda v: v if isinstance(v, str) else "")
def test_a_usage_put_is_pynamodbs(field: str, usage: UsageRecord) -> None:
    put = plain.new_item_put(UsageItem, call_key(usage.request_id), CALL_SORT_KEY, mapping.usage_fields(usage))
    assert put == _pynamodb_put(mapping.usage_item(usage))


@pytest.mark.parametrize(("field", "hold"), _variants(HOLD), ids=lambda v: v if isinstance(v, str) else "")
def test_a_hold_put_is_pynamodbs(field: str, hold: HoldRecord) -> None:
    put = plain.new_item_put(HoldItem, call_key(hold.request_id), CALL_SORT_KEY, mapping.hold_fields(hold))
    assert put == _pynamodb_put(mapping.hold_item(hold))


def test_a_put_without_a_required_attribute_is_refused_as_pynamodb_refuses_it() -> None:
    fields = mapping.hold_fields(HOLD) | {"account_id": None}
    with pytest.raises(ValueError, match="account_id"):
        plain.new_item_put(HoldItem, call_key(HOLD.request_id), CALL_SORT_KEY, fields)
    with pytest.raises(ValueError, match="account_id"):
        _pynamodb_put(HoldItem(call_key(HOLD.request_id), CALL_SORT_KEY, **fields))
