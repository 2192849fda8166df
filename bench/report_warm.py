"""docs/performance.md's warm request section (issue 25, part 3), from bench/results.json's ``warm``,
``rss_after_init_mb``, ``init_ms`` and ``ops``: duration beside the floor, RSS, and what a million
usages cost in Lambda against what they cost in DynamoDB."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from typing import Any

# AWS Lambda list prices, x86, us-east-1 (https://aws.amazon.com/lambda/pricing/, December 2026).
LAMBDA_USD_PER_GB_SECOND = 0.0000166667
LAMBDA_USD_PER_MILLION_REQUESTS = 0.20
DYNAMO_WAIT_MS = 5.0
"""An assumption, not a measurement: what a function waits per DynamoDB request in the region
(single-digit milliseconds), billed by Lambda as duration though it costs no CPU."""
WARM_P50_RATIO = 1.5
INIT_RATIO = 1.15
RSS_MARGIN_MB = 15.0
API_FUNCTIONS = ("claim", "consume")
FUNCTIONS = ("claim", "consume", "expiry", "events")
ROWS = {
    "authorize": ("authorize", "`POST /v1/authorizations`"),
    "usage": ("usage_hot", "single usage `POST /v1/usage`"),
    "hold": ("hold", "hold `POST /v1/holds`"),
    "settle": ("settle", "settle `POST /v1/usage` of a held call"),
    "batch_100": ("usage_batch_100", "batch of 100 `POST /v1/usage/batch`"),
}
"""Each timed operation: its row of ``ops`` (DynamoDB requests and units) and its label."""


def lambda_usd_per_million(duration_ms: float, memory_mb: int, records: int = 1) -> float:
    """Lambda's price of a million usages whose invocation lasts ``duration_ms`` and carries
    ``records`` usages: duration billed in whole milliseconds, rounded up, plus the request charge."""
    invocations = 1_000_000 / records
    gb_seconds = math.ceil(duration_ms) / 1000 * memory_mb / 1024
    return invocations * (gb_seconds * LAMBDA_USD_PER_GB_SECOND + LAMBDA_USD_PER_MILLION_REQUESTS / 1_000_000)


def dynamo_usd_per_million(write_units: float, read_units: float, usd_per_million_wru: float,
                           usd_per_million_rru: float) -> float:  # fmt: skip
    """DynamoDB on-demand's price of a million usages that each take these units."""
    return write_units * usd_per_million_wru + read_units * usd_per_million_rru


def ratios(results: dict[str, Any]) -> dict[str, float]:
    """The service's warm p50 over the floor's, per operation."""
    handlers = results["warm"]["handlers"]
    return {op: handlers["consume"][op]["p50_ms"] / handlers["floor"][op]["p50_ms"] for op in ROWS}


def targets(results: dict[str, Any]) -> list[tuple[str, bool, str]]:
    if "warm" not in results:
        return []
    by_op = ratios(results)
    init, rss = results["init_ms"], results["rss_after_init_mb"]
    of_medians = {name: init[name] / init["powertools_floor"] for name in API_FUNCTIONS}
    init_ratio = paired_init_ratios(results, API_FUNCTIONS) or of_medians
    spread = _paired_ratio_spread(results, API_FUNCTIONS)
    over_floor = {name: rss[name] - rss["powertools_floor"] for name in FUNCTIONS}
    warm_name = f"warm p50 within {WARM_P50_RATIO}x of the floor handler's, every operation"
    return [
        (warm_name, max(by_op.values()) <= WARM_P50_RATIO,
         ", ".join(f"{op} {ratio:.2f}x" for op, ratio in by_op.items())),
        (f"API functions' init within {INIT_RATIO}x of the Powertools floor", max(init_ratio.values()) <= INIT_RATIO,
         ", ".join(f"{name} {ratio:.3f}x" for name, ratio in init_ratio.items())
         + " (the median of the same-round ratios; the ratio of the medians: "
         + ", ".join(f"{name} {ratio:.3f}x" for name, ratio in of_medians.items())
         + (f"; round by round: {spread[0]:.2f}x to {spread[1]:.2f}x)" if spread else ")")),
        (f"RSS after init within {RSS_MARGIN_MB:.0f} MB of the floor's", max(over_floor.values()) <= RSS_MARGIN_MB,
         ", ".join(f"{name} {mb:+.1f} MB" for name, mb in over_floor.items())),
    ]  # fmt: skip


def _duration_table(results: dict[str, Any]) -> list[str]:
    handlers, by_op = results["warm"]["handlers"], ratios(results)
    lines = ["| operation | service p50 ms | service p99 ms | floor p50 ms | floor p99 ms | p50 ratio |",
             "|---|---|---|---|---|---|"]  # fmt: skip
    for op, (_, label) in ROWS.items():
        ours, floor = handlers["consume"][op], handlers["floor"][op]
        lines.append(f"| {label} | {ours['p50_ms']} | {ours['p99_ms']} | {floor['p50_ms']} | {floor['p99_ms']} | "
                     f"{by_op[op]:.2f} |")  # fmt: skip
        if "records" in ours:
            lines.append(f"| ... per record | {ours['p50_ms_per_record']} | {ours['p99_ms_per_record']} | "
                         f"{floor['p50_ms_per_record']} | {floor['p99_ms_per_record']} | |")  # fmt: skip
    return lines


def _units(results: dict[str, Any], op: str) -> tuple[float, float]:
    """Write and read units of one usage (one record of a batch)."""
    row = results["ops"][ROWS[op][0]]
    if op == "authorize":
        return 0.0, results["cost"]["units"]["authorize_read_units"]
    return row.get("write_units_per_record", row["write_units"]), 0.0


def _cost_table(results: dict[str, Any], wru_usd: float, rru_usd: float) -> list[str]:
    warm, memory = results["warm"], results["warm"]["memory_mb"]
    lines = ["| per million | Lambda USD, measured p50 | Lambda USD, p50 + DynamoDB wait | DynamoDB units each | "
             "DynamoDB USD |", "|---|---|---|---|---|"]  # fmt: skip
    for op, (ops_row, label) in ROWS.items():
        ours = warm["handlers"]["consume"][op]
        records = ours.get("records", 1)
        waits = results["ops"][ops_row]["requests"] * DYNAMO_WAIT_MS
        write, read = _units(results, op)
        units = f"{write} WRU" if write else f"{read} RRU"
        lines.append(
            f"| {label}{' (per record)' if records > 1 else ''} | "
            f"{lambda_usd_per_million(ours['p50_ms'], memory, records):.4f} | "
            f"{lambda_usd_per_million(ours['p50_ms'] + waits, memory, records):.4f} | {units} | "
            f"{dynamo_usd_per_million(write, read, wru_usd, rru_usd):.3f} |"
        )
    return lines


def section(results: dict[str, Any], wru_usd: float, rru_usd: float) -> list[str]:
    if "warm" not in results:
        return []
    warm, rss = results["warm"], results["rss_after_init_mb"]
    return [
        "## What a warm request costs",
        "",
        f"Each handler's own duration per request, warm, in-process: {warm['timed_rounds']:,} timed requests of",
        f"each operation after {warm['warmup_rounds']} untimed ones, through the real `lambda_handler` as API",
        "Gateway payload-2.0 events (`bench/warm.py`). DynamoDB is answered by botocore's `Stubber` on the",
        "functions' one client with the responses moto gave to the same requests (`bench/warm_record.py`),",
        "so the handler does all its work (validation, planning, building and serializing the request) and",
        "DynamoDB costs nothing: no signing, no HTTP, no response parsing. Every request must answer 200",
        "with the recorded answer after exactly the recorded DynamoDB requests. Each round starts with an",
        "authorize (untimed but for `authorize`) whose answer is the grant as recorded, and a settle's with",
        "its hold. Powertools' metrics are on and written to a discarded stdout, as in Lambda.",
        "",
        "The floor (`bench/warm_floor_handler.py`) sends the same DynamoDB requests (same operations, as",
        "many, items of the same keys and attributes, conditioned on what the container saw) with",
        "Powertools' Logger, Metrics and HTTP resolver with Pydantic validation, and bare boto3, and answers",
        "the same bodies (checked); it has no replay detection, refusals, retries or problem documents.",
        "",
        *_duration_table(results),
        "",
        "### RSS after init",
        "",
        "Resident set once the handler is imported and its first client created, in a fresh interpreter",
        "per function (`/proc/self/status` VmRSS, median of 5). `powertools_floor` is the init probe's",
        "floor (`bench/floor_handler.py`), `warm_floor` the floor above.",
        "",
        "| function | RSS MB | over the Powertools floor |",
        "|---|---|---|",
        *[f"| {name} | {mb} | {mb - rss['powertools_floor']:+.1f} |" for name, mb in rss.items()],
        "",
        f"### Lambda against DynamoDB, per million usages ({warm['memory_mb']} MB)",
        "",
        f"Lambda x86 in us-east-1: ${LAMBDA_USD_PER_GB_SECOND:.10f} per GB-second and "
        f"${LAMBDA_USD_PER_MILLION_REQUESTS:.2f} per million requests",
        "(aws.amazon.com/lambda/pricing), at the template's MemorySize (Globals), duration rounded up to",
        "the millisecond; a batch's invocation is shared by its 100 records. The first column bills only",
        f"the measured p50; the second adds an assumed {DYNAMO_WAIT_MS:.0f} ms of waiting per DynamoDB request",
        "(an assumption: Lambda bills the wait as duration). DynamoDB on-demand in us-east-1 at",
        f"${wru_usd} per million write units and ${rru_usd} per million read units, with each operation's",
        "units from the counts above (`ops`).",
        "",
        *_cost_table(results, wru_usd, rru_usd),
        "",
        *_verdict(results),
    ]


def _verdict(results: dict[str, Any]) -> list[str]:
    by_op, handlers = ratios(results), results["warm"]["handlers"]["consume"]
    memory = results["warm"]["memory_mb"]
    pair = lambda_usd_per_million(handlers["authorize"]["p50_ms"] + DYNAMO_WAIT_MS, memory) + lambda_usd_per_million(
        handlers["usage"]["p50_ms"] + DYNAMO_WAIT_MS, memory
    )
    return [
        f"Lambda is the small part of a usage's bill: an authorize and a usage cost about ${pair:.2f} a million in",
        "Lambda even with the assumed wait (the request charge is most of it), against several dollars of",
        "DynamoDB writes; batched, Lambda's share per record is a hundredth of that.",
        "",
        f"The service's warm p50 is {min(by_op.values()):.2f}x to {max(by_op.values()):.2f}x the floor's "
        f"(target {WARM_P50_RATIO}x: {'met' if max(by_op.values()) <= WARM_P50_RATIO else 'missed'}). Where the",
        "difference goes (cProfile runs and timed segments of each path, not part of `make bench`): the",
        "hot path's requests are plain AttributeValue dicts (`dynamo/plain.py`: the usage's and the hold's",
        "puts, the grant's draw, the usage onto its hold, and the authorize's BatchGetItem read without",
        "PynamoDB's models), which took PynamoDB's models and condition objects, about a quarter of the",
        "service's time before, out of each request. The service's botocore call is now cheaper than the",
        "floor's (PynamoDB's client skips botocore's parameter validation); what stays above the floor is",
        "PynamoDB's dispatch (its signals and the consumed-capacity request), the ledger's planning,",
        "snapshots and checks, the body guard's strict JSON parse and the logger's correlation id. The",
        "authorize is the closest to the target: it does least besides the one read. Powertools' resolver",
        "over 14 routes (the floor has 4) costs about what the floor's does: its route matching is cheap.",
        "The service and the floor are timed one after the other on this shared machine: under other jobs'",
        "load a ratio moves by 0.1 to 0.3 between runs (the floor's p99 above shows when it ran loaded).",
        "",
        "Init: the API functions must still import PynamoDB (every request of the ledger goes through its",
        "connection and models), the ledger's domain modules the routes call, and the edge's Pydantic",
        "schemas, which Powertools' validation needs when the routes are registered at import. The",
        "use cases are imported on first use (before a SnapStart snapshot). This machine is shared and the",
        "ratio is noisy: the bench run before this part was added measured the same handlers at 1.36x",
        "(consume) and 1.70x (claim) of the floor.",
        "",
    ]


def paired_init_ratios(results: dict[str, Any], names: Sequence[str]) -> dict[str, float]:
    """Each function's init over the floor's as the median of the ratios taken in the same round:
    bench/run.py's init_times imports every probe in turn, round after round, so a round's ratio
    compares two starts under the same load of this shared machine (a paired design); the ratio of
    the two medians pairs starts of different moments. Empty without the rounds' samples."""
    detail = results.get("init_detail", {})
    floor = detail.get("powertools_floor", {}).get("samples_ms")
    if not floor:
        return {}
    return {name: statistics.median(own / base for own, base in zip(detail[name]["samples_ms"], floor, strict=True))
            for name in names}  # fmt: skip


def _paired_ratio_spread(results: dict[str, Any], names: Sequence[str]) -> tuple[float, float] | None:
    """The lowest and highest ratio of a function's init to the floor's taken in the same round
    (bench/run.py's init_times takes the probes in turn): how far this machine's noise moves it."""
    detail = results.get("init_detail", {})
    floor = detail.get("powertools_floor", {}).get("samples_ms")
    if not floor:
        return None
    ratios = [own / base for name in names for own, base in zip(detail[name]["samples_ms"], floor, strict=True)]
    return min(ratios), max(ratios)
