"""The benchmark's holds at scale (bench/holds_at_scale.py): the live holds it takes, and the verdict
on R13a's bound that docs/performance.md states (bench/report_holds.py). The bench itself is not run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from bench.capacity import TABLE
from bench.holds_at_scale import ACCOUNT, COUNTS, background_ttl, call_id
from bench.report_holds import LABELS, bound, section, targets
from trial_ledger.domain.hold_periods import HOLD_PERIOD_SECONDS, period_end
from trial_ledger.limits import HOLD_TTL_RANGE, ID_PATTERN, MAX_ID_LENGTH

FROZEN = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def test_the_live_holds_use_the_longest_ids_and_end_in_every_period_of_their_ttls() -> None:
    ids = [ACCOUNT, call_id("live", 0), call_id("batch-10000", 99), call_id("elsewhere", 10_000)]
    assert all(len(name) == MAX_ID_LENGTH and ID_PATTERN.match(name) for name in ids)
    assert len({call_id("live", n) for n in range(COUNTS[-1])}) == COUNTS[-1]
    ttls = [background_ttl(n) for n in range(COUNTS[-1])]
    assert all(ttl in HOLD_TTL_RANGE for ttl in ttls)
    ends = {period_end(FROZEN + timedelta(seconds=ttl)) for ttl in ttls[:100]}
    # The first 100 already end in every period from 3 minutes to an hour: all live at the frozen clock.
    first, periods = FROZEN + timedelta(minutes=3), 58
    assert ends == {first + timedelta(seconds=HOLD_PERIOD_SECONDS * n) for n in range(periods)}
    assert max(ends) == FROZEN + timedelta(hours=1)


def op(requests: int, units: int) -> dict[str, Any]:
    return {"requests": requests, "write_units": units, "by_operation": {"TransactWriteItems": requests}}


def measured(changes: dict[int, dict[str, dict[str, Any]]] | None = None, grant_bytes: int = 1300) -> dict[str, Any]:
    """A bench section: every operation 1 request and 5 units (a batch 2 and 304), at every count;
    ``changes`` replaces operations at some counts."""
    rows = []
    for count in COUNTS:
        ops = {name: op(2, 304) if name == "usage_batch_100" else op(1, 5) for name in LABELS}
        ops |= (changes or {}).get(count, {})
        ceiling = {"records_per_s": 250, "binding_items": ["grant"], "binding_target": TABLE,
                   "binding_units_per_record": 4.0, "records": 10}  # fmt: skip
        rows.append({"live_holds": count, "grant_bytes": 500 if count == 0 else grant_bytes,
                     "hold_periods": 0 if count == 0 else 58, "ops": ops, "ceiling": ceiling})  # fmt: skip
    return {"rows": rows, "account_id_chars": 128, "request_id_chars": 128}


def test_the_bound_allows_two_units_more_per_write_of_the_grant() -> None:
    grown = {count: {"hold": op(1, 7), "usage_batch_100": op(2, 308)} for count in COUNTS[1:]}
    found = bound(measured(grown))
    assert (found["met"], found["worst_extra_write_units"], found["largest_grant_bytes"]) == (True, 2, 1300)
    [(_, met, value)] = targets({"holds_at_scale": measured(grown)})
    assert met, value


def test_a_request_more_three_units_more_or_a_grant_over_2_kb_breaks_the_bound() -> None:
    more_requests = bound(measured({10_000: {"settle_elsewhere": op(3, 5)}}))
    assert more_requests["failures"] == ["settle_elsewhere: 3 requests at 10,000 live holds, 1 at 0"]
    more_units = bound(measured({1_000: {"release": op(1, 8)}, 100: {"usage_batch_100": op(2, 309)}}))
    assert more_units["failures"] == ["usage_batch_100: +5 write units at 100 live holds (at most +4)",
                                      "release: +3 write units at 1,000 live holds (at most +2)"]  # fmt: skip
    assert not bound(measured(grant_bytes=2049))["met"]
    fewer = measured()
    fewer["rows"] = fewer["rows"][:3]
    assert bound(fewer)["failures"] == ["not measured at 10,000 live holds"]


def test_a_broken_bound_or_a_missing_measurement_shows_as_no() -> None:
    broken = {"holds_at_scale": measured({10_000: {"hold": op(2, 5)}})}
    [(_, met, value)] = targets(broken)
    assert not met
    assert "hold: 2 requests at 10,000 live holds" in value
    assert "R13a's bound does **not** hold" in "\n".join(section(broken))
    assert targets({}) == [(targets({})[0][0], False, "not measured")]


def test_the_section_puts_the_counts_side_by_side() -> None:
    lines = section({"holds_at_scale": measured()})
    assert "| operation | 0 live holds | 100 live holds | 1,000 live holds | 10,000 live holds |" in lines
    assert "| hold (TransactWriteItems 1) | 1 / 5 | 1 / 5 | 1 / 5 | 1 / 5 |" in lines
    assert "| grant item, bytes (periods in `held_units`) | 500 (0) | 1,300 (58) | 1,300 (58) | 1,300 (58) |" in lines
    assert "No operation's write units change with the count." in lines
