"""The events-path section of docs/performance.md (issue 25 part 4): records per second per stream batch."""

from __future__ import annotations

from typing import Any


def section(results: dict[str, Any]) -> list[str]:
    found = results.get("events_path")
    if not found:
        return []
    sizing = found["sizing"]
    lines = [
        "## The events path (stream batches to EventBridge)",
        "",
        "`make bench ONLY=events` (`bench/events_path.py`): the events function's handler over batches of",
        f"the ledger table's stream, cut from {found['stream_records']} records that a postpaid account past its",
        f"free quota wrote in batches of 100 usages ({found['billable_usage_inserts']} billable usage INSERTs, one",
        "`UsageBillable` each). EventBridge answers in-process (botocore's `before-call` hook, as its",
        "`Stubber` does), so the first columns are our own work alone: Powertools, the derivation, the JSON,",
        f"botocore's validation and serialization of each `PutEvents`, {found['put_concurrency']} calls in flight.",
        f"The last two sleep {found['latency_ms']:g} ms in that hook per call (a round trip), with one call in",
        f"flight and with {found['put_concurrency']}. Median batch of several.",
        "",
        "| records per batch | events | `PutEvents` calls | ms per batch | µs per record | records/s (own work)"
        f" | records/s, {found['latency_ms']:g} ms calls one at a time | records/s, {found['latency_ms']:g} ms calls,"
        f" {found['put_concurrency']} in flight | records/s per invocation in Lambda (model) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for size, row in sorted(found["batches"].items(), key=lambda item: int(item[0])):
        concurrent = row.get(f"with_latency_c{found['put_concurrency']}_records_per_s")
        lines.append(
            f"| {size} | {row['entries']} | {row['put_events_calls']} | {row['batch_ms']} | {row['us_per_record']} |"
            f" {row['records_per_s']} | {row['with_latency_c1_records_per_s']} | {concurrent} |"
            f" {sizing['by_batch_size'][size]} |"
        )
    lines += [
        "",
        "The model (last column, `docs/events.md` says why): our own work scaled to the events function's",
        f"CPU share in Lambda (512 MB of the 1,769 MB that make one vCPU), plus one {found['latency_ms']:g} ms",
        f"round trip per wave of {found['put_concurrency']} `PutEvents` calls. With the template's `BatchSize`",
        f"{sizing['batch_size']} and `ParallelizationFactor` {sizing['parallelization_factor']}: "
        f"{sizing['lambda_records_per_s_per_invocation']} records/s per invocation, "
        f"{sizing['records_per_s_per_shard']} per shard against the at most {sizing['records_per_s_per_shard_needed']}"
        f" a shard carries ({sizing['shard_headroom']}x), and {sizing['records_per_s_at_min_shards']} records/s"
        f" over the {sizing['min_shards']} shards that {sizing['target_records_per_s']} records a second need at"
        " least.",
        "",
    ]
    return lines
