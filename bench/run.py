"""`make bench`: DynamoDB requests and items per operation (service and textbook baseline), holds at
scale, handler init time, expiry scaling, local throughput; writes bench/results.json and
docs/performance.md."""

from __future__ import annotations

import os

BENCH_CATALOG = os.path.join(os.path.dirname(__file__), "catalog.json")
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "TABLE_NAME": "trial-quota-bench",
        "CATALOG_FILE": BENCH_CATALOG,
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": "ERROR",
    }
)
os.environ.pop("DYNAMODB_ENDPOINT_URL", None)
os.environ.pop("CATALOG_JSON", None)

import argparse  # noqa: E402
import concurrent.futures  # noqa: E402
import contextlib  # noqa: E402
import functools  # noqa: E402
import json  # noqa: E402
import re  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import urllib.request  # noqa: E402
from collections.abc import Callable, Iterator  # noqa: E402
from datetime import UTC, datetime, timedelta  # noqa: E402
from typing import Any  # noqa: E402

import boto3  # noqa: E402
from botocore.client import BaseClient  # noqa: E402
from moto import mock_aws  # noqa: E402

from bench import baseline, capacity, holds_at_scale, hot_customers, listing_at_scale, report, warm  # noqa: E402
from bench.deployed import DeployedCode, deployed_code  # noqa: E402
from infra.local.lambda_container import ROOT  # noqa: E402
from infra.local.template import create_ledger_table, table_definition  # noqa: E402
from infra.testing import dynamo_limits, moto_transactions  # noqa: E402
from infra.testing.dynamo_meter import DynamoMeter, ItemImages  # noqa: E402
from infra.testing.dynamo_sizes import item_size  # noqa: E402
from trial_ledger import ActionAsk, ClaimMethod, HoldAsk, Ledger, SwitchableClock, UsageAsk, UsageResult  # noqa: E402
from trial_ledger.config.settings import load_catalog  # noqa: E402
from trial_ledger.domain.state import GrantState  # noqa: E402
from trial_ledger.domain.writes import NewGrant  # noqa: E402
from trial_ledger.dynamo.items import GrantItem  # noqa: E402
from trial_ledger.dynamo.keys import all_expiry_shards  # noqa: E402
from trial_ledger.dynamo.mapping import grant_item  # noqa: E402
from trial_ledger.dynamo.store import LedgerStore  # noqa: E402
from trial_ledger.retry import Backoff  # noqa: E402

moto_transactions.install()  # without it moto deep-copies the whole table per transaction
dynamo_limits.install()  # what DynamoDB refuses, moto refuses too
RESULTS = ROOT / "bench" / "results.json"
START = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
CLOSE = datetime(2026, 12, 31, 15, 59, 59, tzinfo=UTC)
TRIAL_MODELS = [model_id for model_id, spec in load_catalog().items() if spec.trial is not None]


DUE_AT = "2026-03-10T00:00:00.000Z"
MODEL_DUE_GRANTS = 1_000_000
MODEL_WRITE_LATENCY_MS = 10.0
"""A TransactWriteItems of two items within the region, as the wall-time model assumes it."""
MODEL_PAGE_SIZE = 500


def expiry_parallel(grants: int = 800, latency_ms: float = MODEL_WRITE_LATENCY_MS) -> dict[str, Any]:
    """Wall time of one nightly run over ``grants`` due grants with 1 and with 16 shard workers.

    moto runs in this process and is not safe under concurrent requests, so each request holds a
    lock (as the local stack's embedded DynamoDB serves one at a time); ``latency_ms`` is slept per
    request outside the lock, standing for the network and DynamoDB time that requests of several
    workers spend in parallel in AWS. The speed-up is the one that time allows."""
    seconds: dict[str, float] = {}
    for workers in (1, 16):
        with mock_aws(), _serialized_with_latency(latency_ms / 1000):
            _fresh_tables()
            ledger = Ledger(store=LedgerStore(), clock=SwitchableClock(START), campaign_close=CLOSE)
            with GrantItem.batch_write() as batch:
                for index in range(grants):
                    state = GrantState(f"par-{index:06d}", "lang-01", "tokens", 1_000_000, 0, 1_000_000, 0,
                                       ClaimMethod.AUTO, "2026-01-01T00:00:00.000Z", DUE_AT)  # fmt: skip
                    batch.save(grant_item(NewGrant(state, None)))
            started = time.perf_counter()
            result = ledger.expire_due(START + timedelta(days=10), workers=workers)
            seconds[str(workers)] = round(time.perf_counter() - started, 2)
            assert (result.expired_grants, result.complete) == (grants, True)
    per_shard = MODEL_DUE_GRANTS / len(all_expiry_shards())
    busiest_shard_s = (per_shard + per_shard / MODEL_PAGE_SIZE) * MODEL_WRITE_LATENCY_MS / 1000
    return {
        "grants": grants,
        "latency_ms": latency_ms,
        "seconds_by_workers": seconds,
        "speedup": round(seconds["1"] / seconds["16"], 1),
        "model": {
            "due_grants": MODEL_DUE_GRANTS,
            "write_latency_ms": MODEL_WRITE_LATENCY_MS,
            "one_shard_at_a_time_minutes": round(busiest_shard_s * len(all_expiry_shards()) / 60, 1),
            "all_shards_at_once_minutes": round(busiest_shard_s / 60, 1),
            "lambda_limit_minutes": 15,
        },
    }


@contextlib.contextmanager
def _serialized_with_latency(latency_s: float) -> Iterator[None]:
    original = BaseClient._make_api_call
    serial = threading.Lock()

    def call(client: BaseClient, operation_name: str, api_params: dict[str, Any]) -> Any:
        time.sleep(latency_s)
        with serial:
            return original(client, operation_name, api_params)

    BaseClient._make_api_call = call
    try:
        yield
    finally:
        BaseClient._make_api_call = original


BATCH_RECORDS = 100
MIXED_BATCH_MODELS = 10
MIXED_QUANTITY = 2
"""Small enough that a 50-image trial keeps a remainder after the service's and the baseline's
ten records each: a record that empties a grant would cost one more index write."""


def _table_specs() -> dict[str, capacity.TableSpec]:
    """What each table's writes cost: its keys and its indexes, from template.yaml and the baseline."""
    ledger_table = os.environ["TABLE_NAME"]
    return {
        ledger_table: capacity.TableSpec.from_definition(table_definition(ledger_table)),
        baseline.IDEMPOTENCY_TABLE: capacity.TableSpec.from_definition(baseline.idempotency_table_definition()),
    }


def _measure(meter: DynamoMeter, action: Callable[[], Any], records: int | None = None) -> dict[str, Any]:
    meter.reset()
    action()
    measured: dict[str, Any] = {
        "requests": meter.total_requests,
        "items_read": meter.items_read,
        "items_written": meter.items_written,
        "by_operation": dict(meter.requests),
    }
    if meter.images is not None:
        by_target = capacity.units_by_target(meter.writes, _table_specs())
        measured |= {"write_units": sum(by_target.values()), "write_units_by_target": by_target}
        if records is not None:
            measured |= {"records": records, "write_units_per_record": round(measured["write_units"] / records, 2)}
    return measured


def _fresh_tables() -> Any:
    client = boto3.client("dynamodb", region_name="us-east-1")
    create_ledger_table(client, os.environ["TABLE_NAME"])
    client.create_table(**baseline.idempotency_table_definition())
    return client


def _imaging_meter() -> DynamoMeter:
    """A meter that keeps each written item's images, read through a client it does not count."""
    return DynamoMeter(images=ItemImages(boto3.client("dynamodb", region_name="us-east-1")))


def _batch(account_id: str, model_ids: list[str], quantity: int, prefix: str) -> list[UsageAsk]:
    """BATCH_RECORDS records interleaved over ``model_ids`` (one model after the other)."""
    return [UsageAsk(account_id, model_ids[index % len(model_ids)], quantity, f"{prefix}-{index:03d}")
            for index in range(BATCH_RECORDS)]  # fmt: skip


def _record_batch(ledger: Ledger, asks: list[UsageAsk]) -> None:
    outcomes = ledger.record_usage_batch(asks)
    refused = [outcome for outcome in outcomes if not isinstance(outcome, UsageResult)]
    assert not refused, f"the bench batch was refused in part: {refused[:3]}"


def operation_counts() -> tuple[dict[str, Any], dict[str, Any], dict[str, int], dict[str, Any]]:
    """Requests, items and write units per operation, service and baseline, on moto; the item
    sizes; and the per-grant write ceilings."""
    with mock_aws():
        client = _fresh_tables()
        store = LedgerStore()
        ledger = Ledger(store=store, clock=SwitchableClock(START), campaign_close=CLOSE, backoff=Backoff())
        meter = _imaging_meter()
        meter.attach_ledger(store)
        try:
            ops = _service_ops(ledger, store, meter)
            sizes = _item_sizes(client)  # before the batches, whose longer bench ids would weigh in
            ops |= _batch_ops(ledger, meter)
            ceilings = _ceilings(ledger, meter)
        finally:
            meter.detach()  # the clients serve the later parts of the bench, which time themselves
        baseline_ops = _baseline_ops()
    return ops, baseline_ops, sizes, ceilings


@contextlib.contextmanager
def _metered_ledger() -> Iterator[tuple[LedgerStore, Ledger, DynamoMeter]]:
    """A ledger on fresh tables of its own, its requests metered."""
    with mock_aws():
        _fresh_tables()
        store = LedgerStore()
        ledger = Ledger(store=store, clock=SwitchableClock(START), campaign_close=CLOSE, backoff=Backoff())
        meter = _imaging_meter()
        meter.attach_ledger(store)
        try:
            yield store, ledger, meter
        finally:
            meter.detach()


def holds_at_scale_counts() -> dict[str, Any]:
    """Issue 23's holds at scale (bench/holds_at_scale.py), on a table of its own."""
    with _metered_ledger() as (store, ledger, meter):
        return holds_at_scale.measure(store, ledger, meter, functools.partial(_measure, meter), _table_specs())


def listing_at_scale_counts() -> list[dict[str, Any]]:
    """What a usage listing page and a usage write cost as one account's records accumulate."""
    with _metered_ledger() as (store, ledger, meter):

        def unmetered(work: Callable[[], None]) -> None:
            meter.detach()
            try:
                work()
            finally:
                meter.attach_ledger(store)

        return listing_at_scale.measure(ledger, functools.partial(_measure, meter), unmetered)


def _item_sizes(client: Any) -> dict[str, int]:
    """The largest item of each kind in the table (the cost model's sizes)."""
    sizes: dict[str, int] = {}
    for raw in client.scan(TableName=os.environ["TABLE_NAME"])["Items"]:
        kind = raw.get("item_type", {}).get("S")
        if kind:
            sizes[kind] = max(sizes.get(kind, 0), item_size(raw))
    return sizes


def _service_ops(ledger: Ledger, store: LedgerStore, meter: DynamoMeter) -> dict[str, Any]:
    for account in ("claim-1", "claim-10", "user"):
        ledger.activate(account)
    ledger.set_postpaid("user", True)
    ops = {
        "claim_1": _measure(meter, lambda: ledger.claim("claim-1", TRIAL_MODELS[:1])),
        "claim_10": _measure(meter, lambda: ledger.claim("claim-10", TRIAL_MODELS[:10])),
    }
    ledger.claim("user", ["lang-01", "image-01"])
    ops["authorize"] = _measure(meter, lambda: ledger.authorize("user", "lang-01"))
    ops["usage_hot"] = _measure(meter, lambda: ledger.record_usage("user", "lang-01", 1834, "hot-1"), records=1)
    ledger.authorize("user", "image-01")
    ops["usage_split"] = _measure(meter, lambda: ledger.record_usage("user", "image-01", 53, "split-1"), records=1)
    ops["usage_replay"] = _measure(meter, lambda: ledger.record_usage("user", "lang-01", 1834, "hot-1"))
    ops["hold"] = _measure(meter, lambda: ledger.hold(HoldAsk("user", "lang-01", "held-1", 4000)))
    ops["settle"] = _measure(meter, lambda: ledger.record_usage("user", "lang-01", 3120, "held-1"), records=1)
    ledger.hold(HoldAsk("user", "lang-01", "held-2", 4000))
    ops["release"] = _measure(meter, lambda: ledger.release_hold("held-2"))
    plain = _measure(meter, lambda: ledger.record_usage("user", "lang-01", 10, "hot-2"), records=1)
    ops["usage_plain_after_holds"] = plain
    ops["list_grants"] = _measure(meter, lambda: ledger.grants("user"))
    ops["reversal"] = _measure(meter, lambda: ledger.reverse_usage("hot-2", "failed after metering"))
    ledger.record_usage("user", "image-01", 5, "billed-1")  # the image trial is used up: billed only
    ops["reversal_billed"] = _measure(meter, lambda: ledger.reverse_usage("billed-1", "failed after metering"))
    ops["grant_ledger_page"] = _measure(meter, lambda: ledger.grant_ledger("user", "lang-01", limit=50))
    ops["usage_page"] = _measure(meter, lambda: ledger.usage("user", limit=50))
    later = START + timedelta(days=120)
    ops["extension"] = _measure(
        meter, lambda: ledger.extend_grant(ActionAsk("ext-1", "user", "lang-01", "ops", "t"), later)
    )
    ops["void"] = _measure(
        meter, lambda: ledger.void_grant(ActionAsk("void-1", "claim-1", TRIAL_MODELS[0], "ops", "t"))
    )
    cold = Ledger(store=store, clock=SwitchableClock(START), campaign_close=CLOSE)
    ops["usage_cold_container"] = _measure(meter, lambda: cold.record_usage("user", "lang-01", 10, "cold-1"), records=1)
    return ops


def _warm_account(ledger: Ledger, account_id: str, model_ids: list[str]) -> None:
    """An activated account with a grant on each model, every grant seen by this container."""
    ledger.activate(account_id)
    ledger.claim(account_id, model_ids)
    for model_id in model_ids:
        ledger.authorize(account_id, model_id)


def _batch_ops(ledger: Ledger, meter: DynamoMeter) -> dict[str, Any]:
    """100 records on one grant, and 100 over 10 grants of one account, each in a container that
    has seen every grant of the batch (authorize first, as the gateway calls it)."""
    mixed_models = TRIAL_MODELS[:MIXED_BATCH_MODELS]
    _warm_account(ledger, "batch-one", ["lang-01"])
    _warm_account(ledger, "batch-mixed", mixed_models)
    one = _batch("batch-one", ["lang-01"], 1834, "one")
    mixed = _batch("batch-mixed", mixed_models, MIXED_QUANTITY, "mixed")
    return {
        "usage_batch_100": _measure_batch(meter, ledger, one),
        "usage_batch_mixed": _measure_batch(meter, ledger, mixed),
    }


def _measure_batch(meter: DynamoMeter, ledger: Ledger, asks: list[UsageAsk]) -> dict[str, Any]:
    measured = _measure(meter, lambda: _record_batch(ledger, asks), records=len(asks))
    return measured | {"grants": len({(ask.account_id, ask.model_id) for ask in asks})}


def _ceilings(ledger: Ledger, meter: DynamoMeter) -> dict[str, Any]:
    """Records per second of each hot customer's stream (bench/hot_customers.py), from the
    partitions it wrote or checked, and the binding one."""
    detail: dict[str, Any] = {}
    for stream in hot_customers.streams(TRIAL_MODELS[:MIXED_BATCH_MODELS]):
        run = hot_customers.prepare(ledger, stream)
        measured = _measure(meter, run, records=stream.records)
        found = capacity.ceiling(meter.writes, _table_specs(), stream.records, report.PARTITION_WRITE_UNITS_PER_SECOND)
        grant_rate, grant_binding = hot_customers.grant_bound(found, stream.account_id)
        detail[stream.name] = found | {
            "label": stream.label, "records": stream.records, "requests": measured["requests"],
            "write_units_per_record": measured["write_units_per_record"], "models": len(stream.models),
            "grant_records_per_s": grant_rate, "grant_binding": grant_binding,
        }  # fmt: skip
    return detail


def _baseline_ops() -> dict[str, Any]:
    """The textbook baseline's usage, one record and (as a batch's baseline) 100 single records."""
    meter = _imaging_meter()
    meter.attach(baseline._table().meta.client)
    meter.attach(baseline._persistence().client)

    def usage(account_id: str, model_id: str, quantity: int, request_id: str) -> None:
        baseline.record_usage({"account_id": account_id, "model_id": model_id, "quantity": quantity,
                               "request_id": request_id})  # fmt: skip

    def batch(asks: list[UsageAsk]) -> None:
        for ask in asks:
            usage(ask.account_id, ask.model_id, ask.quantity, ask.request_id)

    one = _batch("batch-one", ["lang-01"], 1834, "b-one")
    mixed = _batch("batch-mixed", TRIAL_MODELS[:MIXED_BATCH_MODELS], MIXED_QUANTITY, "b-mixed")
    try:
        return {
            "authorize": _measure(meter, lambda: baseline.authorize("user", "lang-01")),
            "usage_hot": _measure(meter, lambda: usage("user", "lang-01", 1834, "b-hot-1"), records=1),
            "usage_replay": _measure(meter, lambda: usage("user", "lang-01", 1834, "b-hot-1")),
            "usage_batch_100": _measure(meter, lambda: batch(one), records=len(one)),
            "usage_batch_mixed": _measure(meter, lambda: batch(mixed), records=len(mixed)),
        }
    finally:
        meter.detach()


INIT_PROBE = """
import time
started = time.perf_counter()
import {module}
imported = time.perf_counter()
{ready}
ready = time.perf_counter()
print((imported - started) * 1000, (ready - started) * 1000)
"""
FLOOR_READY = "floor_handler.Item._get_connection().connection.client"
"""The floor's client, created through PynamoDB as the ledger's is (HANDLER_READY)."""
HANDLER_READY = (
    "from trial_ledger.dynamo.items import LedgerItem; from trial_ledger.dynamo.store import LedgerStore; "
    "LedgerStore().client; LedgerItem._get_connection().connection.client"
)


def init_times(runs: int = 25) -> dict[str, Any]:
    """Import + init of each handler in a fresh interpreter, until its DynamoDB client exists,
    against a bare handler that imports boto3 and creates a client. Median of ``runs``, the probes
    taken in turn (one of each, then the next round), so that a change in the machine's load
    weighs on every probe alike rather than on whichever ran during it. Our layers and functions
    are imported from their precompiled copy (bench/deployed.py), as a deployed function imports them."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("POWERTOOLS_")}
    env |= {"AWS_LAMBDA_FUNCTION_NAME": "bench", "POWERTOOLS_SERVICE_NAME": "trial-quota"}
    env |= {"PYTHONDONTWRITEBYTECODE": "1"}  # consume_from_source compiles at every start, as before the build did
    with deployed_code() as code:
        return _init_times(code, env, runs)


def _init_times(code: DeployedCode, env: dict[str, str], runs: int) -> dict[str, Any]:
    probes = {
        "claim": ("claim_handler", HANDLER_READY, code.pythonpath("functions/claim")),
        "consume": ("consume_handler", HANDLER_READY, code.pythonpath("functions/consume")),
        "expiry": ("expiry_handler", HANDLER_READY, code.pythonpath("functions/expiry")),
        "bare_boto3": ("boto3", "boto3.client('dynamodb')", code.pythonpath("functions")),
        "powertools_floor": ("floor_handler", FLOOR_READY, code.pythonpath("bench")),
        "warm_floor": (
            "warm_floor_handler",
            "",
            code.pythonpath("bench"),
        ),  # bench/warm.py's floor: its client at import
        # What every cold start paid before the build shipped bytecode: our modules compiled from source.
        "consume_from_source": ("consume_handler", HANDLER_READY, code.source_pythonpath("functions/consume")),
    }
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in probes}
    for _ in range(runs):
        for name, (module, ready, path) in probes.items():
            done = subprocess.run(  # noqa: S603 (our own probe)
                [sys.executable, "-c", INIT_PROBE.format(module=module, ready=ready)],
                env=env | {"PYTHONPATH": path}, capture_output=True, text=True, check=True,
            )  # fmt: skip
            imported, total = map(float, done.stdout.split())
            samples[name].append((imported, total))
    results = {name: round(statistics.median(total for _, total in taken), 1) for name, taken in samples.items()}
    details = {
        name: {
            "import_ms": round(statistics.median(imported for imported, _ in taken), 1),
            "ready_ms": results[name],
            "samples_ms": [round(total, 1) for _, total in taken],
        }
        for name, taken in samples.items()
    }
    return {"init_ms": results, "init_detail": details, "init_breakdown_ms": import_breakdown(env, code)}


BREAKDOWN_MODULES = {
    "aws_xray_sdk.core": "X-Ray SDK (Powertools Tracer)",
    "aws_lambda_powertools.event_handler": "Powertools event handler",
    "aws_lambda_powertools.event_handler.openapi.params": "Powertools OpenAPI params (pydantic)",
    "pynamodb.connection": "PynamoDB connection (botocore)",
    "pydantic": "pydantic",
    "trial_ledger": "trial_ledger, with the PynamoDB and botocore it imports",
    "trial_edge.schemas.common": "trial_edge common schemas",
    "trial_edge.schemas.gateway": "trial_edge gateway schemas",
}


def import_breakdown(env: dict[str, str], code: DeployedCode) -> dict[str, float]:
    """Cumulative import time of the heavy parts of the consume handler (python -X importtime)."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import consume_handler"],
        env=env | {"PYTHONPATH": code.pythonpath("functions/consume")}, capture_output=True, text=True, check=True,
    )  # fmt: skip
    cumulative: dict[str, float] = {}
    for line in done.stderr.splitlines():
        parts = [part.strip() for part in line.removeprefix("import time:").split("|")]
        if len(parts) == 3 and parts[1].isdigit():
            name = parts[2]
            cumulative[name] = max(cumulative.get(name, 0.0), int(parts[1]) / 1000)
    return {label: round(cumulative.get(module, 0.0), 1) for module, label in BREAKDOWN_MODULES.items()}


def expiry_scaling(sizes: tuple[int, ...] = (10_000, 50_000, 100_000)) -> list[dict[str, Any]]:
    rows = []
    for grants in sizes:
        with mock_aws():
            _fresh_tables()
            store = LedgerStore()
            ledger = Ledger(store=store, clock=SwitchableClock(START), campaign_close=CLOSE)
            due = 0
            with GrantItem.batch_write() as batch:
                for index in range(grants):
                    is_due = index % 10 == 0
                    due += is_due
                    expires_at = "2026-03-10T00:00:00.000Z" if is_due else "2026-09-01T00:00:00.000Z"
                    state = GrantState(f"acct-{index:06d}", "lang-01", "tokens", 1_000_000, 0, 1_000_000, 0,
                                       ClaimMethod.AUTO, "2026-01-01T00:00:00.000Z", expires_at)  # fmt: skip
                    batch.save(grant_item(NewGrant(state, None)))
            meter = DynamoMeter()
            meter.attach_ledger(store)
            started = time.perf_counter()
            result = ledger.expire_due(START + timedelta(days=10), workers=1)  # moto here is single-threaded
            seconds = time.perf_counter() - started
            assert result.complete
            assert result.expired_grants == due
            rows.append(
                {
                    "grants": grants,
                    "due": due,
                    "expired": result.expired_grants,
                    "items_read": meter.items_read,
                    "items_read_per_expired": round(meter.items_read / max(due, 1), 3),
                    "queries": meter.requests["Query"],
                    "writes": meter.requests["TransactWriteItems"],
                    "seconds": round(seconds, 2),
                }
            )
            print(f"  expiry: {rows[-1]}", flush=True)
    return rows


def throughput(clients: int = 8, per_client: int = 150) -> dict[str, Any]:
    """Usage recording through the local API (HTTP, event, handler, embedded DynamoDB), each client
    on its own account, for the service route and the baseline route, in the same server."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    env |= {"PORT": "0", "LOCAL_API_QUIET": "1", "PYTHONUNBUFFERED": "1", "TABLE_NAME": "trial-quota-throughput"}
    server = subprocess.Popen(
        [sys.executable, "-m", "bench.serve"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert server.stdout is not None
        url = ""
        for line in server.stdout:
            if match := re.search(r"local API on (http://\S+)", line):
                url = match.group(1)
                break
        if not url:
            raise RuntimeError("bench server did not start")

        def post(path: str, body: dict[str, Any]) -> int:
            request = urllib.request.Request(  # noqa: S310 (our own local server)
                url + path, data=json.dumps(body).encode(), method="POST", headers={"Content-Type": "application/json"}
            )
            with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 (local server)
                return int(response.status)

        def run(path: str, tag: str) -> float:
            def client(index: int) -> None:
                for request in range(per_client):
                    body = {"account_id": f"tp-{index}", "model_id": "lang-01", "quantity": 10,
                            "request_id": f"{tag}-{index}-{request}"}  # fmt: skip
                    assert post(path, body) == 200

            started = time.perf_counter()
            with concurrent.futures.ThreadPoolExecutor(clients) as pool:
                list(pool.map(client, range(clients)))
            return clients * per_client / (time.perf_counter() - started)

        def run_batches(tag: str, batches: int = 3, size: int = 100) -> float:
            """Records per second when each client sends its usage in batches of ``size``."""

            def client(index: int) -> None:
                for batch in range(batches):
                    records = [{"account_id": f"tp-{index}", "model_id": "lang-01", "quantity": 10,
                                "request_id": f"{tag}-{index}-{batch}-{n}"} for n in range(size)]  # fmt: skip
                    assert post("/v1/usage/batch", {"records": records}) == 200

            started = time.perf_counter()
            with concurrent.futures.ThreadPoolExecutor(clients) as pool:
                list(pool.map(client, range(clients)))
            return clients * batches * size / (time.perf_counter() - started)

        def warm(index: int) -> None:
            post("/v1/authorizations", {"account_id": f"tp-{index}", "model_id": "lang-01"})
            for round_ in range(3):
                post("/v1/usage", {"account_id": f"tp-{index}", "model_id": "lang-01", "quantity": 1,
                                   "request_id": f"warm-{index}-{round_}"})  # fmt: skip
                post("/_bench/baseline-usage", {"account_id": f"tp-{index}", "model_id": "lang-01", "quantity": 1,
                                                "request_id": f"bwarm-{index}-{round_}"})  # fmt: skip

        # Claim every client's grant and start the containers that many clients need (each is a
        # process with a cold start) before anything is timed.
        with concurrent.futures.ThreadPoolExecutor(clients) as pool:
            list(pool.map(warm, range(clients)))
        service = run("/v1/usage", "svc")
        base = run("/_bench/baseline-usage", "base")
        batched = run_batches("batch")
        return {"service": round(service, 1), "baseline": round(base, 1), "service_batched_records": round(batched, 1),
                "clients": clients, "requests_per_client": per_client}  # fmt: skip
    finally:
        server.terminate()
        server.wait(timeout=10)


SECTIONS: dict[str, Callable[[], dict[str, Any]]] = {}
"""Each part of the bench by name; ``python -m bench.run --only NAME ...`` runs those alone and keeps
the other parts' figures from bench/results.json (a full run takes about 14 minutes)."""


def _section(name: str) -> Callable[[Callable[[], dict[str, Any]]], Callable[[], dict[str, Any]]]:
    def register(part: Callable[[], dict[str, Any]]) -> Callable[[], dict[str, Any]]:
        SECTIONS[name] = part
        return part

    return register


@_section("counts")
def _operation_counts_section() -> dict[str, Any]:
    ops, baseline_ops, sizes, ceilings = operation_counts()
    return {
        "ops": ops,
        "baseline_ops": baseline_ops,
        "item_sizes_bytes": sizes,
        "ceiling_detail": ceilings,
    }


@_section("holds")
def _holds_section() -> dict[str, Any]:
    return {"holds_at_scale": holds_at_scale_counts()}


@_section("listing")
def _listing_section() -> dict[str, Any]:
    return {"listing_at_scale": listing_at_scale_counts()}


@_section("init")
def _init_section() -> dict[str, Any]:
    return init_times()


@_section("warm")
def _warm_section() -> dict[str, Any]:
    return warm.measure()


@_section("expiry")
def _expiry_section() -> dict[str, Any]:
    return {"expiry": expiry_scaling()}


@_section("expiry-parallel")
def _expiry_parallel_section() -> dict[str, Any]:
    return {"expiry_parallel": expiry_parallel()}


@_section("events")
def _events_section() -> dict[str, Any]:
    from bench import events_path  # noqa: PLC0415 (imports the events function: functions/events on the path)

    return {"events_path": events_path.measure()}


@_section("throughput")
def _throughput_section() -> dict[str, Any]:
    return {"throughput_rps": throughput()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make bench", description=__doc__)
    parser.add_argument("--only", nargs="+", choices=sorted(SECTIONS), metavar="PART",
                        help=f"run only these parts ({', '.join(SECTIONS)}), keeping the others' figures")  # fmt: skip
    chosen = parser.parse_args(argv).only or list(SECTIONS)
    started = time.perf_counter()
    results: dict[str, Any] = json.loads(RESULTS.read_text(encoding="utf-8")) if set(chosen) != set(SECTIONS) else {}
    for name in chosen:
        print(f"{name}...", flush=True)
        results |= SECTIONS[name]()
    results["environment"] = {
        "python": sys.version.split()[0],
        "machine": os.uname().machine,
        "cores": os.cpu_count(),
        "backend": "moto (in-process) for counts; moto server behind the local API for throughput",
    }
    results["seconds"] = round(time.perf_counter() - started, 1)
    results["cost"] = report.cost_model(results)
    RESULTS.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    report.write_markdown(results, ROOT / "docs" / "performance.md")
    print(f"wrote {RESULTS} and docs/performance.md in {results['seconds']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
