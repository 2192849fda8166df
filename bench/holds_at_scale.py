"""Holds at scale (issue 23 item 4, R13a): what hold-path operations cost beside many live holds.

With 0, 100, 1,000 and 10,000 live holds of other requests on one grant, ``measure`` gives the
requests and write units of a hold, a settle (in the container that took the hold, and in another
one sharing the table), a release, a plain usage and a batch of 100 usages on that grant; the
grant item's size (DynamoDB's rules, ``infra/testing/dynamo_sizes.py``); and the grant's ceiling
(records per second, as bench/run.py's ``_ceilings``, over a short stream of plain usages).

The live holds are a busy streaming customer's: 1 unit each, 128-character request ids, on an
account of a 128-character id, their TTLs spread over every hold period from 3 minutes to an hour,
so that all of them are live at the bench's frozen clock. They are taken with the meter detached
(setup is neither metered nor imaged), by the container whose operations are then measured, so
that its snapshot of the grant stays current as a gateway's would."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from typing import Any

import boto3

from bench.capacity import TableSpec, ceiling
from bench.report import PARTITION_WRITE_UNITS_PER_SECOND
from infra.testing.dynamo_meter import DynamoMeter
from infra.testing.dynamo_sizes import item_size
from trial_ledger import HoldAsk, HoldStatus, Ledger, UsageAsk, UsageResult
from trial_ledger.dynamo import plain
from trial_ledger.dynamo.keys import grant_key
from trial_ledger.dynamo.store import LedgerStore
from trial_ledger.limits import MAX_ID_LENGTH

COUNTS = (0, 100, 1_000, 10_000)
"""Live holds of other requests on the grant while each operation is measured."""
ACCOUNT = "scale-".ljust(MAX_ID_LENGTH, "a")
MODEL = "lang-01"
BATCH_RECORDS = 100
CEILING_RECORDS = 10
OPERATIONS = ("hold", "settle", "settle_elsewhere", "release", "usage_plain", "usage_batch_100")

Measure = Callable[[Callable[[], object], int | None], dict[str, Any]]
"""bench/run.py's ``_measure`` on the meter: requests and write units of one action."""


def call_id(tag: str, n: int) -> str:
    """A request id as long as the API accepts (128 characters)."""
    return f"{tag}-{n:06d}-".ljust(MAX_ID_LENGTH, "r")


def background_ttl(n: int) -> int:
    """The ``n``-th live hold's ``ttl_seconds``: 180 to 3,599 in steps of 61 (mod 3,420), so
    that every 60-second period from 3 minutes to an hour ahead holds some of them."""
    return 180 + (n * 61) % 3420


def measure(store: LedgerStore, ledger: Ledger, meter: DynamoMeter, measure_op: Measure,
            specs: Mapping[str, TableSpec]) -> dict[str, Any]:  # fmt: skip
    """The figures at each of ``COUNTS``; ``ledger`` is metered by ``meter`` and shares ``store``."""
    return _HoldsAtScale(store, ledger, meter, measure_op, specs).run()


class _HoldsAtScale:
    def __init__(self, store: LedgerStore, ledger: Ledger, meter: DynamoMeter, measure_op: Measure,
                 specs: Mapping[str, TableSpec]) -> None:  # fmt: skip
        self._store, self._ledger, self._meter = store, ledger, meter
        self._measure, self._specs = measure_op, specs
        self._other = Ledger(store=store, catalog=ledger.catalog, clock=ledger.clock)
        self._client = boto3.client("dynamodb", region_name="us-east-1")  # never metered

    def run(self) -> dict[str, Any]:
        self._ledger.activate(ACCOUNT)
        self._ledger.claim(ACCOUNT, [MODEL])
        self._ledger.authorize(ACCOUNT, MODEL)
        rows: list[dict[str, Any]] = []
        live = 0
        for count in COUNTS:
            seconds = self._take_live_holds(live, count)
            live = count
            assert self._held() == count
            row: dict[str, Any] = {"live_holds": count, **self._grant_item()}
            row["ops"] = self._operations(count)
            row["ceiling"] = self._ceiling(count)
            assert self._held() == count, "every measured hold was settled or released"
            row["setup_ms_per_hold"] = round(seconds * 1000 / (count - rows[-1]["live_holds"]), 1) if rows else None
            rows.append(row)
            print(f"  {count} live holds: grant {row['grant_bytes']} B, ceiling {row['ceiling']['records_per_s']}/s",
                  flush=True)  # fmt: skip
        return {"account_id_chars": len(ACCOUNT), "request_id_chars": len(call_id("live", 0)), "model_id": MODEL,
                "rows": rows}  # fmt: skip

    def _take_live_holds(self, first: int, count: int) -> float:
        """Holds ``first`` to ``count - 1``, unmetered; returns the seconds they took."""
        started = time.perf_counter()
        self._meter.detach()
        try:
            for n in range(first, count):
                ask = HoldAsk(ACCOUNT, MODEL, call_id("live", n), 1, ttl_seconds=background_ttl(n))
                assert self._ledger.hold(ask).held == 1
        finally:
            self._meter.attach_ledger(self._store)
        return time.perf_counter() - started

    def _operations(self, count: int) -> dict[str, Any]:
        ledger, other, measure_op = self._ledger, self._other, self._measure
        held, elsewhere, released = (call_id(tag, count) for tag in ("held", "elsewhere", "released"))
        ops = {"hold": measure_op(lambda: self._hold(held), None),
               "settle": measure_op(lambda: self._usage(ledger, held), 1)}  # fmt: skip
        self._hold(elsewhere)
        other.authorize(ACCOUNT, MODEL)  # it has seen the grant (as after an authorize), not the hold
        ops["settle_elsewhere"] = measure_op(lambda: self._usage(other, elsewhere), 1)
        ledger.authorize(ACCOUNT, MODEL)  # the taker sees the grant the other container changed
        self._hold(released)
        ops["release"] = measure_op(lambda: self._release(released), None)
        ops["usage_plain"] = measure_op(lambda: self._usage(ledger, call_id("plain", count)), 1)
        asks = [UsageAsk(ACCOUNT, MODEL, 1, call_id(f"batch-{count}", n)) for n in range(BATCH_RECORDS)]
        ops["usage_batch_100"] = measure_op(lambda: self._batch(asks), BATCH_RECORDS)
        return ops

    def _ceiling(self, count: int) -> dict[str, Any]:
        """Records per second the grant takes, from a stream of plain usages on it."""

        def stream() -> None:
            for n in range(CEILING_RECORDS):
                self._usage(self._ledger, call_id(f"ceiling-{count}", n))

        measured = self._measure(stream, CEILING_RECORDS)
        found = ceiling(self._meter.writes, self._specs, CEILING_RECORDS, PARTITION_WRITE_UNITS_PER_SECOND)
        binding = found["by_partition"][found["binding"]]
        return {"records_per_s": found["records_per_s"], "binding_items": found["binding_items"],
                "binding_target": found["binding"].split(" partition ")[0],
                "binding_units_per_record": binding["units_per_record"], "records": CEILING_RECORDS,
                "requests": measured["requests"]}  # fmt: skip

    def _hold(self, request_id: str) -> None:
        assert self._ledger.hold(HoldAsk(ACCOUNT, MODEL, request_id, 1)).held == 1

    def _usage(self, ledger: Ledger, request_id: str) -> None:
        assert ledger.record_usage(ACCOUNT, MODEL, 1, request_id).free == 1

    def _release(self, request_id: str) -> None:
        assert self._ledger.release_hold(request_id).status is HoldStatus.RELEASED

    def _batch(self, asks: list[UsageAsk]) -> None:
        outcomes = self._ledger.record_usage_batch(asks)
        assert all(isinstance(outcome, UsageResult) and outcome.free == 1 for outcome in outcomes), outcomes[:3]

    def _held(self) -> int:
        [grant] = self._ledger.grants(ACCOUNT)
        return grant.held

    def _grant_item(self) -> dict[str, int]:
        """The grant item's size as DynamoDB measures it, and its hold periods, read raw."""
        key = plain.key(*grant_key(ACCOUNT, MODEL))
        item = self._client.get_item(TableName=os.environ["TABLE_NAME"], Key=key, ConsistentRead=True)["Item"]
        return {"grant_bytes": item_size(item), "hold_periods": len(item.get("held_units", {}).get("M", {}))}
