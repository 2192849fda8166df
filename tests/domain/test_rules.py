"""Pure rules: time format (R12), free-first split (R6), exact money (R10), effective state (R5)."""

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from trial_ledger import ClaimMethod, GrantStatus, SwitchableClock, format_timestamp, parse_timestamp
from trial_ledger.domain.rules import charge_for, effective_grant, format_money, split_usage, usage_fingerprint
from trial_ledger.domain.state import GrantState
from trial_ledger.dynamo.cursor import decode_cursor, encode_cursor
from trial_ledger.errors import InvalidRequest


def test_timestamps_are_utc_z_milliseconds() -> None:
    shanghai = timezone(timedelta(hours=8))
    moment = datetime(2026, 12, 31, 23, 59, 59, 123456, tzinfo=shanghai)
    assert format_timestamp(moment) == "2026-12-31T15:59:59.123Z"
    assert parse_timestamp("2026-12-31T23:59:59+08:00") == datetime(2026, 12, 31, 15, 59, 59, tzinfo=UTC)


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="offset"):
        parse_timestamp("2026-01-01T00:00:00")
    with pytest.raises(ValueError, match="naive"):
        format_timestamp(datetime(2026, 1, 1))


def test_switchable_clock() -> None:
    clock = SwitchableClock(datetime(2026, 1, 1, tzinfo=UTC))
    clock.advance(timedelta(hours=1))
    assert clock.now() == datetime(2026, 1, 1, 1, tzinfo=UTC)
    clock.unfreeze()
    assert clock.frozen is False
    with pytest.raises(RuntimeError):
        clock.advance(timedelta(seconds=1))


@pytest.mark.parametrize(
    ("quantity", "free", "postpaid", "expected"),
    [
        (10, 100, False, (10, 0, 0)),
        (10, 4, True, (4, 6, 0)),
        (10, 4, False, (4, 0, 6)),
        (10, 0, True, (0, 10, 0)),
        (10, 0, False, (0, 0, 10)),
    ],
)
def test_split_free_first(quantity: int, free: int, postpaid: bool, expected: tuple[int, int, int]) -> None:
    split = split_usage(quantity, free, postpaid)
    assert (split.free, split.billable, split.unbilled_overage) == expected
    assert split.free + split.billable + split.unbilled_overage == quantity


def test_money_is_exact_and_plain() -> None:
    assert format_money(charge_for(3, Decimal("0.0000024"))) == "0.0000072"
    assert format_money(charge_for(10, Decimal("0.2"))) == "2"
    assert format_money(charge_for(0, Decimal("0.0000008"))) == "0"
    assert format_money(charge_for(1_000_000_000, Decimal("0.000002"))) == "2000"


def _state(remaining: int, expired: int = 0) -> GrantState:
    return GrantState("a", "m", "tokens", 100, 100 - remaining - expired, remaining, expired, ClaimMethod.MANUAL,
                      "2026-01-01T00:00:00.000Z", "2026-02-01T00:00:00.000Z")  # fmt: skip


def test_effective_state() -> None:
    before = "2026-01-31T23:59:59.999Z"
    at = "2026-02-01T00:00:00.000Z"
    assert effective_grant(_state(40), before).status is GrantStatus.ACTIVE
    assert effective_grant(_state(0), before).status is GrantStatus.EXHAUSTED
    expired = effective_grant(_state(40), at)
    assert (expired.status, expired.remaining, expired.expired, expired.used) == (GrantStatus.EXPIRED, 0, 40, 60)
    recorded = effective_grant(_state(0, expired=40), at)
    assert (recorded.remaining, recorded.expired) == (0, 40)


def test_fingerprint_covers_the_body() -> None:
    base = usage_fingerprint("a", "m", 1, None)
    assert base == usage_fingerprint("a", "m", 1, None)
    assert len({base, usage_fingerprint("a", "m", 2, None), usage_fingerprint("a", "m", 1, "s"),
                usage_fingerprint("b", "m", 1, None), usage_fingerprint("a", "n", 1, None)}) == 5  # fmt: skip


def test_cursor_round_trip_and_tampering() -> None:
    cursor = encode_cursor("2026-01-01T00:00:00.000Z#r1", "r1")
    assert decode_cursor(cursor) == ("2026-01-01T00:00:00.000Z#r1", "r1")
    for bad in ["!!!", "e30", encode_cursor("x", "r1")]:
        with pytest.raises(InvalidRequest):
            decode_cursor(bad)
