"""The cost model and docs/performance.md, both computed from a bench run's results."""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any

from bench import report_capacity, report_events, report_holds, report_hot, report_warm
from bench.capacity import read_units

# DynamoDB on-demand list prices, us-east-1, as published after the November 2024 reduction.
# Update them here when they change; the report is regenerated from them.
USD_PER_MILLION_WRITE_UNITS = 0.625
USD_PER_MILLION_READ_UNITS = 0.125
USD_PER_GB_MONTH = 0.25
ITEM_OVERHEAD_BYTES = 100  # DynamoDB's per-item storage overhead, base table and each index
PARTITION_WRITE_UNITS_PER_SECOND = 1000

OP_NAMES = ["claim_1", "claim_10", "authorize", "usage_hot", "usage_split", "usage_replay", "usage_batch_100",
            "usage_batch_mixed", "list_grants"]  # fmt: skip
WRITING_OPS = [*OP_NAMES, "usage_cold_container", "hold", "settle", "release", "usage_plain_after_holds", "reversal",
               "reversal_billed", "grant_ledger_page", "extension", "void"]  # fmt: skip
BATCH_OPS = ["usage_batch_100", "usage_batch_mixed"]


def _measured_units(results: dict[str, Any]) -> dict[str, Any]:
    """Write units as the bench measured them (bench/capacity.py), read units from the item sizes."""
    sizes, ops, base = results["item_sizes_bytes"], results["ops"], results["baseline_ops"]
    return {
        "usage_hot_write_units": ops["usage_hot"]["write_units"],
        "usage_batch_100_write_units_per_record": ops["usage_batch_100"]["write_units_per_record"],
        "usage_batch_mixed_write_units_per_record": ops["usage_batch_mixed"]["write_units_per_record"],
        "authorize_read_units": read_units(sizes["profile"]) + read_units(sizes["grant"]),  # one BatchGetItem
        "baseline_usage_write_units": base["usage_hot"]["write_units"],
        "baseline_usage_read_units": read_units(sizes["grant"]),  # the decorated function's GetItem
    }


def cost_model(results: dict[str, Any]) -> dict[str, Any]:
    sizes = results["item_sizes_bytes"]
    units = _measured_units(results)
    authorize_rru = units["authorize_read_units"]
    write_usd, read_usd = USD_PER_MILLION_WRITE_UNITS, USD_PER_MILLION_READ_UNITS
    per_million_service = units["usage_hot_write_units"] * write_usd + authorize_rru * read_usd
    # The baseline's authorize reads the profile and the grant too (two GetItems).
    baseline_reads = units["baseline_usage_read_units"] + authorize_rru
    per_million_baseline = units["baseline_usage_write_units"] * write_usd + baseline_reads * read_usd
    storage_gb = 2 * (sizes["usage"] + ITEM_OVERHEAD_BYTES) * 1_000_000 / 1024**3
    written = {"single": units["usage_hot_write_units"],
               "batched_one_grant": units["usage_batch_100_write_units_per_record"],
               "baseline": units["baseline_usage_write_units"]}  # fmt: skip
    return {
        "assumptions": {
            "usd_per_million_write_units": USD_PER_MILLION_WRITE_UNITS,
            "usd_per_million_read_units": USD_PER_MILLION_READ_UNITS,
            "usd_per_gb_month": USD_PER_GB_MONTH,
            "pricing": "DynamoDB on-demand, us-east-1",
        },
        "units": units,
        "usd_per_million_invocations": {
            "service": round(per_million_service, 2),
            "baseline": round(per_million_baseline, 2),
        },
        "usd_per_million_records_written": {name: round(wru * write_usd, 2) for name, wru in written.items()},
        "storage_gb_per_million_usage_records": round(storage_gb, 3),
        "storage_usd_per_month_per_million_records": round(storage_gb * USD_PER_GB_MONTH, 3),
    }


def _ops_table(results: dict[str, Any]) -> list[str]:
    lines = [
        "| operation | requests | items read | items written | baseline requests | baseline read | baseline written |",
        "|---|---|---|---|---|---|---|",
    ]
    for name in WRITING_OPS:
        op = results["ops"][name]
        base = results["baseline_ops"].get(name)
        cells = [str(base[key]) for key in ("requests", "items_read", "items_written")] if base else ["", "", ""]
        operations = ", ".join(f"{k} {v}" for k, v in sorted(op["by_operation"].items()))
        lines.append(f"| `{name}` ({operations}) | {op['requests']} | {op['items_read']} | {op['items_written']} | "
                     + " | ".join(cells) + " |")  # fmt: skip
    return lines


def _targets(results: dict[str, Any]) -> list[str]:
    ops, init = results["ops"], results["init_ms"]
    per_expired = [row["items_read_per_expired"] for row in results["expiry"]]
    worst_init = max(init[name] / init["bare_boto3"] for name in ("claim", "consume", "expiry"))
    hot, authorize = ops["usage_hot"]["requests"], ops["authorize"]["requests"]
    rows = [
        ("usage on the hot path: 1 DynamoDB request", hot == 1, str(hot)),
        ("authorize: 1 request", authorize == 1, str(authorize)),
        ("items read per expired grant <= 1.1, flat in table size",
         max(per_expired) <= 1.1 and max(per_expired) - min(per_expired) < 0.05, ", ".join(map(str, per_expired))),
        ("each handler's init <= 1.5x the bare boto3 handler", worst_init <= 1.5, f"worst {worst_init:.2f}x"),
        *report_capacity.batch_targets(results),
        *report_holds.targets(results),
        *report_warm.targets(results),
    ]  # fmt: skip
    lines = ["| target | met | measured |", "|---|---|---|"]
    lines += [f"| {name} | {'yes' if met else '**no**'} | {value} |" for name, met, value in rows]
    return lines


def expiry_plot(rows: list[dict[str, Any]]) -> str:
    """An SVG of the expiry run's items read against the table size, beside what a Scan would read."""
    width, height, left, bottom, top = 560, 300, 70, 40, 20
    most = max(row["grants"] for row in rows)

    def point(grants: float, items: float) -> str:
        x = left + (width - left - 20) * grants / most
        y = height - bottom - (height - bottom - top) * items / most
        return f"{x:.1f},{y:.1f}"

    scan = " ".join(point(row["grants"], row["grants"]) for row in rows)
    read = " ".join(point(row["grants"], row["items_read"]) for row in rows)
    labels = "".join(
        f'<text x="{point(row["grants"], 0).split(",")[0]}" y="{height - bottom + 18}" font-size="11" '
        f'text-anchor="middle">{row["grants"] // 1000}k</text>'
        for row in rows
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif">'
        f'<rect width="{width}" height="{height}" fill="white"/>'
        f'<line x1="{left}" y1="{height - bottom}" x2="{width - 10}" y2="{height - bottom}" stroke="black"/>'
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{height - bottom}" stroke="black"/>'
        f'<text x="{left - 8}" y="{top + 4}" font-size="11" text-anchor="end">{most // 1000}k</text>'
        f'<text x="{left - 8}" y="{height - bottom}" font-size="11" text-anchor="end">0</text>'
        f'<text x="{(width + left) / 2}" y="{height - 6}" font-size="12" text-anchor="middle">grants in the table '
        f"(10% due)</text>"
        f'<polyline points="{scan}" fill="none" stroke="#c0392b" stroke-dasharray="6 4" stroke-width="2"/>'
        f'<polyline points="{read}" fill="none" stroke="#2471a3" stroke-width="3"/>'
        f'<text x="{width - 20}" y="{top + 30}" font-size="12" fill="#c0392b" text-anchor="end">a table Scan '
        f"would read every grant</text>"
        f'<text x="{width - 20}" y="{height - bottom - 40}" font-size="12" fill="#2471a3" text-anchor="end">'
        f"items read by the expiry run = the due grants</text>{labels}</svg>\n"
    )


def write_markdown(results: dict[str, Any], path: Path) -> None:
    (path.parent / "expiry-scaling.svg").write_text(expiry_plot(results["expiry"]), encoding="utf-8")
    init, detail = results["init_ms"], results["init_detail"]
    one, mixed = results["ops"]["usage_batch_100"], results["ops"]["usage_batch_mixed"]
    rps = results["throughput_rps"]
    lines = [
        "# Performance",
        "",
        "Generated by `make bench` from `bench/results.json`; do not edit by hand. Counts come from a",
        "botocore event hook (`infra/testing/dynamo_meter.py`) on every client the code uses, against moto; times",
        f"from this machine ({results['environment']['cores']} cores, {results['environment']['machine']},",
        f"Python {results['environment']['python']}), which is shared and noisy: read times as orders of magnitude.",
        "",
        "## Targets",
        "",
        *_targets(results),
        "",
        "## DynamoDB requests and items per operation",
        "",
        "The service beside the textbook baseline (`bench/baseline.py`: Powertools' idempotency decorator",
        "around a read-check-update of the grant, written for this comparison). `usage_hot` follows an",
        "`authorize` in the same container, as the gateway calls them; `usage_cold_container` is the same",
        "usage in a container that has seen nothing of the grant (one read first). `usage_batch_100` is",
        f"one `POST /v1/usage/batch` of {one['records']} records on one grant, `usage_batch_mixed` "
        f"{mixed['records']} records interleaved over {mixed['grants']} grants of one account, both in a",
        "container that has seen every grant of the batch; their baseline is as many single baseline usages.",
        "",
        *_ops_table(results),
        "",
        f"Ratio on the hot path: {results['baseline_ops']['usage_hot']['requests']} baseline requests for "
        f"{results['ops']['usage_hot']['requests']}; a replay costs {results['ops']['usage_replay']['requests']} "
        f"against {results['baseline_ops']['usage_replay']['requests']}.",
        "",
        *report_capacity.write_units_section(results),
        *report_holds.section(results),
        "## Handler init (cold start)",
        "",
        "Import of the handler module and creation of its DynamoDB client, in a fresh interpreter, median",
        f"of {len(results.get('init_detail', {}).get('claim', {}).get('samples_ms', []))} rounds, the probes taken "
        "in turn; the bare "
        "handler imports boto3 and creates a DynamoDB client. The target",
        "row above compares each API function with the floor round by round (the median of the ratios of",
        "the same round: the probes of a round start one after another, under the same load of this",
        "shared machine) and gives the ratio of the medians beside it.",
        "Our layers and functions are imported as a deploy runs them: from a copy compiled as the SAM build",
        "compiles them (`bench/deployed.py`: unchecked-hash `__pycache__/*.cpython-313.pyc`); the third-party",
        "packages from the virtual environment, compiled by pip. `consume_from_source` is the consume",
        "handler from the source tree, which has no `__pycache__`: our modules compiled at import.",
        "",
        "| handler | import ms | ready ms | ratio to bare |",
        "|---|---|---|---|",
        *[
            f"| {name} | {detail[name]['import_ms']} | {init[name]} | {init[name] / init['bare_boto3']:.2f} |"
            for name in ("claim", "consume", "expiry", "powertools_floor", "bare_boto3", "consume_from_source")
            if name in init
        ],
        "",
        "Where the consume handler's import time goes (cumulative, `python -X importtime`, one run):",
        "",
        "| part | ms |",
        "|---|---|",
        *[f"| {part} | {ms} |" for part, ms in results["init_breakdown_ms"].items()],
        "",
        *_init_verdict(init, detail),
        "",
        *report_warm.section(results, USD_PER_MILLION_WRITE_UNITS, USD_PER_MILLION_READ_UNITS),
        "## Nightly expiry scaling (10% of grants due)",
        "",
        "| grants | due | expired | items read | read per expired | queries | writes | seconds (moto) |",
        "|---|---|---|---|---|---|---|---|",
        *[
            f"| {r['grants']} | {r['due']} | {r['expired']} | {r['items_read']} | {r['items_read_per_expired']} | "
            f"{r['queries']} | {r['writes']} | {r['seconds']} |"
            for r in results["expiry"]
        ],
        "",
        "![items read by the expiry run against the table size](expiry-scaling.svg)",
        "",
        "Items read equal the due grants at every size: the sparse index holds only grants with a",
        "remainder, and the query stops at `as_of`. The seconds grow with the table only because moto",
        "evaluates an index query by scanning every item; DynamoDB reads the index range.",
        "",
        *_expiry_parallel_section(results.get("expiry_parallel")),
        "## Throughput through the local API",
        "",
        f"{rps['clients']} concurrent clients, {rps['requests_per_client']} usage records each, one account per",
        "client, through HTTP, the payload-2.0 event, the handler and the embedded DynamoDB (one request at",
        "a time): the service route and the baseline route in the same server and run.",
        "",
        "| route | requests per second |",
        "|---|---|",
        f"| service `POST /v1/usage` | {rps['service']} |",
        f"| baseline `POST /_bench/baseline-usage` | {rps['baseline']} |",
        *_batched_row(rps),
        "",
        "The embedded DynamoDB serializes requests, so the rate mostly counts DynamoDB round trips per",
        "record: 1 for the service, 5 for the baseline, 0.02 batched (the same clients then send their",
        "records 100 a call: 3 calls each).",
        "",
        *_cost_section(results),
        *report_hot.section(results, PARTITION_WRITE_UNITS_PER_SECOND),
        *report_hot.listing_section(results),
        *report_events.section(results),
        f"Whole run: {results['seconds']} s.",
        "",
    ]
    path.write_text("\n".join(lines), encoding="utf-8")


def _cost_section(results: dict[str, Any]) -> list[str]:
    cost, units = results["cost"], results["cost"]["units"]
    single, baseline = units["usage_hot_write_units"], units["baseline_usage_write_units"]
    written = cost["usd_per_million_records_written"]
    return [
        "## Cost model",
        "",
        f"Item sizes measured from the table (bytes): {results['item_sizes_bytes']}.",
        "",
        "- Usage on the hot path: one `TransactWriteItems` of two items, each billed as two writes per KB"
        f" (transactions), plus the usage record written to its one index: **{single} write units**.",
        f"- Batched usage: **{units['usage_batch_100_write_units_per_record']} write units a record** on one grant,"
        f" {units['usage_batch_mixed_write_units_per_record']} on {results['ops']['usage_batch_mixed']['grants']}"
        " grants of one account.",
        f"- Authorize: one strongly consistent `BatchGetItem` of two items: **{units['authorize_read_units']}"
        " read units**.",
        f"- Baseline usage: {baseline} write units and {units['baseline_usage_read_units']} read unit(s), plus its"
        " authorize (2 reads).",
        "",
        "| per million invocations (authorize + usage) | USD, on-demand |",
        "|---|---|",
        f"| service | {cost['usd_per_million_invocations']['service']} |",
        f"| baseline | {cost['usd_per_million_invocations']['baseline']} |",
        "",
        "| writes per million usage records | USD, on-demand |",
        "|---|---|",
        *[f"| {name.replace('_', ' ')} | {usd} |" for name, usd in written.items()],
        "",
        f"Storage: {cost['storage_gb_per_million_usage_records']} GB per million usage records (base table and",
        "its index, with DynamoDB's 100-byte overhead), "
        f"{cost['storage_usd_per_month_per_million_records']} USD a month.",
        f"Prices assumed: {cost['assumptions']}.",
        "",
        f"A single usage pays {'more' if single > baseline else 'no more'} write units than the baseline's: the"
        " transaction doubles the",
        "write cost of its two items (one index now serves both usage listings: a model's listing",
        "filters the account's, reading at most 1,000 records a call). What that buys: the record and",
        "the draw are atomic (the baseline can lose a record between its update and its put), replays",
        "are recognised for the table's lifetime (the baseline's idempotency records expire), and one",
        "round trip instead of five. A batch shares the grant's write among its records and pays",
        f"{'less' if units['usage_batch_100_write_units_per_record'] < baseline else 'no less'} than the baseline"
        " per record.",
        "",
    ]


def _batched_row(rps: dict[str, Any]) -> list[str]:
    if "service_batched_records" not in rps:
        return []
    route = "service `POST /v1/usage/batch`, 100 records a call (records per second)"
    return [f"| {route} | {rps['service_batched_records']} |"]


def _init_verdict(init: dict[str, float], detail: dict[str, Any]) -> list[str]:
    bare = init["bare_boto3"]
    worst = max(init[name] for name in ("claim", "consume", "expiry")) / bare
    verdict = "met" if worst <= 1.5 else f"missed by {worst - 1.5:.2f}x"
    lines = [
        f"The target (1.5x the bare boto3 handler) is {verdict}: {worst:.2f}x at worst.",
    ]
    if "powertools_floor" in init:
        floor = init["powertools_floor"]
        lines += [
            "`powertools_floor` (`bench/floor_handler.py`) is the least a function built like the",
            "API functions imports: Powertools' Logger, Metrics and HTTP resolver with Pydantic",
            "validation, one body model, and PynamoDB with one model, its client created as the ledger's (the",
            "issue's floor: Powertools and PynamoDB and nothing of ours; PynamoDB is the data access the",
            f"ledger must use). It alone takes {floor} ms, {floor / bare:.2f}x the bare",
            "handler: with Powertools' resolver and Pydantic at the edge, 1.5x cannot be reached by trimming our own",
            f"code. Above that floor the API functions add {init['consume'] - floor:.0f} ms (consume) and",
            f"{init['claim'] - floor:.0f} ms (claim): the ledger's modules (the plain-value dataclasses, about",
            "0.5 ms each to create, and the PynamoDB models and the store) and the edge's Pydantic schemas",
            "of the hot routes.",
        ]
    if "consume_from_source" in init:
        source, deployed = detail["consume_from_source"]["samples_ms"], detail["consume"]["samples_ms"]
        paired = [own - precompiled for own, precompiled in zip(source, deployed, strict=True)]
        lines += [
            f"Compiling our modules from source costs {min(source) - min(deployed):.0f} ms of the consume handler's",
            "init (`consume_from_source` less `consume`, the fastest round of each, the least disturbed by",
            "this machine's other load; the same-round differences have a median of",
            f"{statistics.median(paired):.0f} ms and range from {min(paired):.0f} to {max(paired):.0f} ms).",
            "Every cold start in AWS paid it, and",
            "compiled the layers' Powertools, Pydantic and botocore too: the python3.13 build method copies",
            "sources and unpacks wheels without `__pycache__`, and Lambda's /opt and /var/task are read-only,",
            "so nothing compiled could be kept. The build now compiles every module of both layers and the four",
            "functions (`infra/build/Makefile`, SAM's `BuildMethod: makefile`) to unchecked-hash bytecode,",
            "which Python loads without reading the source or its mtime (a zip keeps no reliable ones); an",
            "artifact is never changed after its build, so it cannot go stale. `make sam-check` fails a build",
            "where a module lacks it.",
        ]
    return [
        *lines,
        "What was done: the X-Ray SDK is gone (Powertools' Tracer imported it, about 130 ms;",
        "`Tracing: Active` keeps Lambda's own segments, and docs/operations.md says how to add",
        "OpenTelemetry); the store and the models share one botocore client (one service model",
        "loaded); the expiry function imports boto3 only when it must continue itself; the",
        "ledger's use cases are imported on first use (`use_cases/registry.py`: a function imports none at",
        "init, about 26 ms less); and the edge's schemas are split per function",
        "(`trial_edge/schemas/`): the claim function imports the console's, the consume function the",
        "gateway's (admission, usage, batches, holds), and the listings' and the corrections' (reversals,",
        "the operators' routes) are imported on their routes' first request (string annotations that",
        "Powertools resolves then). `tests/api/test_cold_start_imports.py` fails if a function imports",
        "any other at init. The SnapStart priming imports all of them before the snapshot, so a restore",
        "imports nothing. The ledger does the same with what only the corrections, the listings and the",
        "nightly jobs use: their values (`correction_results.py`, `job_results.py`), the action and",
        "reversal plans and writers, the index queries with the shard merge and the cursors (the store",
        "creates those collaborators on first use), and each API function imports only its own routes'",
        "values (`console_results.py` or `gateway_results.py`). What the cold path must still import:",
        "Powertools, Pydantic, PynamoDB and botocore (the floor); the ledger's config, pure domain, store",
        "and mapping, and the edge's schemas of the hot routes, whose dataclasses and Pydantic models",
        "are most of what lies above the floor. In AWS the claim and consume functions run",
        "with SnapStart: the init measured here happens once per published version, before the",
        "snapshot (primed by the runtime hooks), and a cold start is a restore plus the after-restore",
        "hook (a reseed and an empty cache).",
    ]


def _expiry_parallel_section(parallel: dict[str, Any] | None) -> list[str]:
    if not parallel:
        return []
    model = parallel["model"]
    seconds = parallel["seconds_by_workers"]
    return [
        "## Nightly expiry in parallel",
        "",
        f"One run over {parallel['grants']} due grants, each request delayed {parallel['latency_ms']} ms (the",
        "network and DynamoDB time, spent in parallel in AWS) and then served one at a time by moto:",
        "",
        "| shard workers | seconds |",
        "|---|---|",
        *[f"| {workers} | {value} |" for workers, value in seconds.items()],
        "",
        f"Speed-up {parallel['speedup']}x. It is bounded here by moto's own work per request, which one",
        "process does one request at a time; in AWS each worker waits only on its own requests.",
        "",
        f"Model for {model['due_grants']:,} due grants at {model['write_latency_ms']} ms per write (one",
        "TransactWriteItems per grant, one query per page of 500, 16 shards of equal size): one shard at",
        f"a time takes {model['one_shard_at_a_time_minutes']} minutes; all shards at once take the busiest",
        f"shard's time, {model['all_shards_at_once_minutes']} minutes, inside one Lambda invocation",
        f"({model['lambda_limit_minutes']} minutes); continuations remain the fallback for slower writes.",
        "",
    ]
