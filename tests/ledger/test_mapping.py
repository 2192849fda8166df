"""Field parity of the explicit mappers (issue 22): every field of a stored state survives the trip
to its item, through what DynamoDB stores, and back; every field of the grant view comes from the
state. A field added to one side and forgotten in a mapper fails here."""

from __future__ import annotations

import dataclasses
from enum import Enum
from typing import Any

import pytest

from trial_ledger import ClaimMethod, FundingSource, HoldStatus
from trial_ledger.domain.rules import effective_grant
from trial_ledger.domain.state import (
    CallRecord,
    GrantState,
    HeldPeriod,
    HoldRecord,
    LedgerStamp,
    Reversal,
    UsageRecord,
)
from trial_ledger.domain.writes import NewGrant
from trial_ledger.dynamo import mapping
from trial_ledger.dynamo.items import LedgerItem, UsageItem

GRANT = GrantState("acct", "model-a", "tokens", 1_000, 300, 600, 100, ClaimMethod.MANUAL, "2026-03-01T08:00:00.000Z",
                   "2026-05-30T08:00:00.000Z", holds=(HeldPeriod("2026-03-01T08:15:00.000Z", 40),),
                   alert_thresholds=(50, 90))  # fmt: skip
USAGE = UsageRecord("req-u", "acct", "model-a", "sub-1", 70, 50, 15, 5, "USD", "0.000002", "0.00003", 550, True,
                    "2026-03-01T08:01:00.000Z", "f" * 64, "w" * 32, LedgerStamp(4, 350, 550, 100))  # fmt: skip
HOLD = HoldRecord("req-h", "acct", "model-a", "sub-2", 90, 40, FundingSource.FREE, 510, False,
                  "2026-03-01T08:00:00.000Z", "2026-03-01T08:15:00.000Z", 900, HoldStatus.OPEN, None,
                  "e" * 64, "v" * 32)  # fmt: skip


HELD_USAGE = dataclasses.replace(USAGE, request_id=HOLD.request_id)


def _stored[M: LedgerItem](item: M) -> M:
    """The item as DynamoDB would hand it back: serialized, then read."""
    return type(item).from_raw_data(item.serialize())


def _other(value: Any) -> Any:
    """Another value of the same kind, so that a dropped or swapped field shows."""
    if isinstance(value, Enum):
        return next(member for member in type(value) if member is not value)
    if isinstance(value, bool | int):
        return (not value) if isinstance(value, bool) else value + 7
    if isinstance(value, str):
        return value + "-x"
    if isinstance(value, LedgerStamp | Reversal):
        return (
            dataclasses.replace(value, free_returned=value.free_returned + 1)
            if isinstance(value, Reversal)
            else dataclasses.replace(value, sequence=value.sequence + 1)
        )
    if isinstance(value, tuple):
        added = 99 if value and isinstance(value[0], int) else HeldPeriod("2026-03-01T08:16:00.000Z", 3)
        return (*value, added) if value else value
    if value is None:
        return None
    raise AssertionError(f"no other value for {value!r}")


def _variants[S](sample: S) -> list[tuple[str, S]]:
    """The sample, and one copy per field with that field changed (None fields get a value)."""
    fills = {
        "reversal": Reversal("2026-03-02T08:00:00.000Z", "failed call", 30, 20),
        "sub_account_id": "sub-9",
        "free_remaining": 11,
        "free_available": 12,
        "closed_at": "2026-03-01T08:05:00.000Z",
    }
    copies = [("as is", sample)]
    for field in dataclasses.fields(sample):  # type: ignore[arg-type]
        value = getattr(sample, field.name)
        changed = fills.get(field.name) if value is None else _other(value)
        copies.append((field.name, dataclasses.replace(sample, **{field.name: changed})))  # type: ignore[type-var]
    return copies


@pytest.mark.parametrize(("field", "grant"), _variants(GRANT), ids=lambda v: v if isinstance(v, str) else "")
def test_a_grant_survives_its_item(field: str, grant: GrantState) -> None:
    assert mapping.grant_state(_stored(mapping.grant_item(NewGrant(grant, None)))) == grant


@pytest.mark.parametrize(("field", "usage"), _variants(USAGE), ids=lambda v: v if isinstance(v, str) else "")
def test_a_usage_record_survives_its_item(field: str, usage: UsageRecord) -> None:
    assert mapping.usage_record(_stored(mapping.usage_item(usage))) == usage


@pytest.mark.parametrize(("field", "hold"), _variants(HOLD), ids=lambda v: v if isinstance(v, str) else "")
def test_a_hold_survives_its_item(field: str, hold: HoldRecord) -> None:
    assert mapping.hold_record(_stored(mapping.hold_item(hold))) == hold


def test_a_usage_on_its_holds_item_keeps_both() -> None:
    """A settle (or a usage after its hold ended) lands on the hold's item: both stay readable."""
    item = mapping.hold_item(HOLD)
    hold_fields = {name: value for name, value in item.attribute_values.items() if name != "item_type"}
    settled = UsageItem(item.pk, item.sk, **(hold_fields | mapping.usage_fields(HELD_USAGE)))
    assert mapping.call_record(_stored(settled)) == CallRecord(HOLD, HELD_USAGE)
    assert mapping.call_record(_stored(item)) == CallRecord(HOLD, None)
    assert mapping.call_record(_stored(mapping.usage_item(USAGE))) == CallRecord(None, USAGE)


def test_every_field_of_the_grant_view_comes_from_the_state() -> None:
    view = effective_grant(GRANT, "2026-03-01T08:10:00.000Z")
    derived = {"status", "held"}
    copied = {field.name for field in dataclasses.fields(view)} - derived
    assert {name: getattr(view, name) for name in copied} == {name: getattr(GRANT, name) for name in copied}
    assert (view.held, view.status.value) == (40, "active")


def test_every_field_of_a_usage_record_reaches_its_result() -> None:
    result = USAGE.result(replayed=False)
    kept = {field.name for field in dataclasses.fields(result)} - {"replayed", "charge", "reversed_at"}
    assert {name: getattr(result, name) for name in kept} == {name: getattr(USAGE, name) for name in kept}
    assert str(result.charge) == USAGE.charge
    reversed_usage = dataclasses.replace(USAGE, reversal=Reversal("2026-03-02T08:00:00.000Z", "failed call", 50, 0))
    assert (result.reversed_at, reversed_usage.result(replayed=True).reversed_at) == (None, "2026-03-02T08:00:00.000Z")
