"""The events path at the ceiling (issue 25 part 4): records per second per stream batch of the events function.

Realistic changes: a postpaid account past its free quota records batches of 100 usages through
the ledger on moto, and the table's stream is read as Lambda reads it: a billable usage INSERT
(one ``UsageBillable``) per record, and what else the batches wrote. Batches of each size are cut
from that stream and handed to ``events_handler.lambda_handler`` (Powertools, derivation, JSON,
botocore's validation and serialization of each PutEvents: all of our own work). EventBridge
answers in-process, from botocore's ``before-call`` hook as its ``Stubber`` does, so no network
counts; a second run sleeps ``LATENCY_MS`` in that hook per call, standing for the round trip, to
check the model of docs/events.md against the calls the function keeps in flight."""

from __future__ import annotations

import math
import os
import statistics
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import boto3
from botocore.awsrequest import AWSResponse
from moto import mock_aws

import events_handler
from infra.local.events import LocalLambdaContext
from infra.local.routes import stream_sources
from infra.local.streams import lambda_event
from infra.local.template import create_ledger_table
from trial_ledger import Ledger, SwitchableClock, UsageAsk, UsageResult
from trial_ledger.dynamo.store import LedgerStore
from trial_ledger.events import EventBus

START = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
CLOSE = datetime(2026, 12, 31, 15, 59, 59, tzinfo=UTC)
BATCH_SIZES = (100, 500, 1000)
USAGE_BATCHES = 12
"""Batches of 100 usages recorded for the stream: enough for the largest stream batch."""
REPEATS = 7
LATENCY_MS = 50.0
"""The PutEvents round trip the model assumes (docs/events.md says why)."""
LATENCY_REPEATS = 2
LAMBDA_MEMORY_MB = 512
"""The template's MemorySize (Globals) for the events function."""
ONE_VCPU_MB = 1769
"""Lambda gives a function one vCPU's worth of CPU at 1,769 MB, in proportion below it."""
TARGET_RECORDS_PER_S = 10_000
PARTITION_WRITE_UNITS_PER_SECOND = 1000
"""A partition takes at most 1,000 write units a second, and every stream record is the write of
an item (at least one unit): a shard, roughly one per partition, carries at most 1,000 records a second."""


def measure() -> dict[str, Any]:
    records = _stream_records()
    billable = sum(1 for record in records if _is_billable_insert(record))
    results: dict[str, Any] = {
        "stream_records": len(records),
        "billable_usage_inserts": billable,
        "put_concurrency": events_handler.PUT_CONCURRENCY,
        "latency_ms": LATENCY_MS,
        "batches": {},
    }
    for size in BATCH_SIZES:
        batch = records[:size]
        own = _timed(batch, latency_s=0.0, concurrency=events_handler.PUT_CONCURRENCY, repeats=REPEATS)
        row = own | {"records": size, "billable": sum(1 for r in batch if _is_billable_insert(r))}
        for concurrency in sorted({1, events_handler.PUT_CONCURRENCY}):
            slow = _timed(batch, LATENCY_MS / 1000, concurrency, LATENCY_REPEATS)
            row[f"with_latency_c{concurrency}_records_per_s"] = slow["records_per_s"]
        results["batches"][str(size)] = row
        print(f"  events: {size} records: {row}", flush=True)
    return results | {"sizing": sizing(results["batches"])}


def lambda_records_per_s(row: dict[str, Any], latency_ms: float = LATENCY_MS) -> int:
    """Records a second one invocation publishes in Lambda: our own work, measured here, scaled to
    the function's CPU share, plus the PutEvents round trips, ``PUT_CONCURRENCY`` at a time."""
    own_s = row["us_per_record"] * row["records"] / 1e6 * ONE_VCPU_MB / LAMBDA_MEMORY_MB
    waves = math.ceil(row["put_events_calls"] / events_handler.PUT_CONCURRENCY)
    return round(row["records"] / (own_s + waves * latency_ms / 1000))


def sizing(batches: dict[str, Any]) -> dict[str, Any]:
    """The template's stream settings against 10,000 usage records a second on one account."""
    mapping = next(source for source in stream_sources() if source.function == "EventsFunction")
    row = batches[str(mapping.batch_size)]
    per_invocation = lambda_records_per_s(row)
    shards = math.ceil(TARGET_RECORDS_PER_S / PARTITION_WRITE_UNITS_PER_SECOND)
    per_shard = per_invocation * mapping.parallelization_factor
    return {
        "batch_size": mapping.batch_size,
        "parallelization_factor": mapping.parallelization_factor,
        "lambda_records_per_s_per_invocation": per_invocation,
        "lambda_records_per_s_per_invocation_at_100_ms": lambda_records_per_s(row, 100.0),
        "records_per_s_per_shard_needed": PARTITION_WRITE_UNITS_PER_SECOND,
        "records_per_s_per_shard": per_shard,
        "shard_headroom": round(per_shard / PARTITION_WRITE_UNITS_PER_SECOND, 1),
        "min_shards": shards,
        "records_per_s_at_min_shards": shards * per_shard,
        "target_records_per_s": TARGET_RECORDS_PER_S,
        "by_batch_size": {size: lambda_records_per_s(batch) for size, batch in batches.items()},
    }


def _is_billable_insert(record: dict[str, Any]) -> bool:
    image = record["dynamodb"].get("NewImage", {})
    return bool(record["eventName"] == "INSERT" and image.get("item_type", {}).get("S") == "usage")


def _stream_records() -> list[dict[str, Any]]:
    """The ledger table's stream after a postpaid account past its free quota recorded
    ``USAGE_BATCHES`` batches of 100 usages (the claim and the usages that emptied the trial first)."""
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        create_ledger_table(client, os.environ["TABLE_NAME"])
        stream_arn = client.describe_table(TableName=os.environ["TABLE_NAME"])["Table"]["LatestStreamArn"]
        ledger = Ledger(store=LedgerStore(), clock=SwitchableClock(START), campaign_close=CLOSE)
        ledger.activate("hot")
        ledger.set_postpaid("hot", True)
        ledger.claim("hot", ["image-01"])
        ledger.record_usage("hot", "image-01", 10_000, "empty-the-trial")
        for round_ in range(USAGE_BATCHES):
            asks = [UsageAsk("hot", "image-01", 2, f"hot-{round_}-{n:03d}") for n in range(100)]
            assert all(isinstance(outcome, UsageResult) for outcome in ledger.record_usage_batch(asks))
        return _read_stream(stream_arn)


def _read_stream(stream_arn: str) -> list[dict[str, Any]]:
    streams = boto3.client("dynamodbstreams", region_name="us-east-1",
                           endpoint_url="https://streams.dynamodb.us-east-1.amazonaws.com")  # fmt: skip
    [shard] = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"]
    iterator = streams.get_shard_iterator(StreamArn=stream_arn, ShardId=shard["ShardId"],
                                          ShardIteratorType="TRIM_HORIZON")["ShardIterator"]  # fmt: skip
    records: list[dict[str, Any]] = []
    while True:
        page = streams.get_records(ShardIterator=iterator, Limit=1000)
        if not page["Records"]:
            return list(lambda_event(records, stream_arn)["Records"])
        records += page["Records"]
        iterator = page["NextShardIterator"]


def _timed(batch: list[dict[str, Any]], latency_s: float, concurrency: int, repeats: int) -> dict[str, Any]:
    """The handler over ``batch`` ``repeats`` times (after one warm-up); the median batch."""
    with _answered_events(latency_s) as (client, calls):
        bus = EventBus(client, "bench-ledger", concurrency=concurrency)
        original = events_handler.event_bus
        events_handler.event_bus = lambda: bus  # type: ignore[assignment]
        try:
            seconds = []
            for repeat in range(repeats + 1):
                calls.clear()
                started = time.perf_counter()
                answer = events_handler.lambda_handler({"Records": batch}, LocalLambdaContext("EventsFunction"))
                if repeat:
                    seconds.append(time.perf_counter() - started)
                assert answer == {"batchItemFailures": []}, answer
        finally:
            events_handler.event_bus = original  # type: ignore[assignment]
    median = statistics.median(seconds)
    return {
        "batch_ms": round(median * 1000, 1),
        "records_per_s": round(len(batch) / median),
        "us_per_record": round(median / len(batch) * 1e6, 1),
        "put_events_calls": len(calls),
        "entries": sum(calls),
    }


@contextmanager
def _answered_events(latency_s: float) -> Iterator[tuple[Any, list[int]]]:
    """An EventBridge client whose PutEvents every entry of is taken, in-process, after
    ``latency_s``; and the entries of each call."""
    client = boto3.client("events", region_name="us-east-1")
    calls: list[int] = []
    lock = threading.Lock()

    def answer(params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        entries = len(params["body"]) and params["body"].count(b'"Source"')
        if latency_s:
            time.sleep(latency_s)
        with lock:
            calls.append(entries)
        results = [{"EventId": f"bench-{len(calls)}-{index}"} for index in range(entries)]
        return AWSResponse("https://bench", 200, {}, None), {"FailedEntryCount": 0, "Entries": results}

    client.meta.events.register("before-call.events.PutEvents", answer)
    yield client, calls
