"""Time a handler's warm requests with DynamoDB answered by botocore's Stubber (issue 25, part 3):
``python -m bench.warm_replay HANDLER RECORDING.json OUT.json [REQUESTS]``, in a fresh process
without moto (bench/warm.py runs it, stdout discarded: the metrics' EMF lines go there, as in Lambda).

Each round sends an operation's requests (bench/warm_scenario.py) through the real
``lambda_handler`` as API Gateway payload-2.0 events; each DynamoDB request is answered by the
Stubber with moto's recorded response, so the handler does all its work (validation, planning,
the request's building and serialization) and DynamoDB costs nothing: no signing, no HTTP, no
response parsing. Only the last request of a round is timed; every request must answer 200 with
the recorded answer (ids and times masked) after exactly the recorded DynamoDB requests."""

from __future__ import annotations

import gc
import importlib
import json
import resource
import sys
import time
from pathlib import Path
from typing import Any

from botocore import xform_name
from botocore.stub import Stubber

from bench.warm_scenario import HANDLERS, OPERATIONS, Request, normalised, requests
from infra.local.events import GATEWAY_ROLE_ARN, LocalLambdaContext, http_event

WARMUP_ROUNDS = 200
"""Rounds before the timed ones: a use case's module is imported on first use, caches fill."""
TIMED_ROUNDS = 2000


def percentile(samples: list[float], share: float) -> float:
    """The nearest-rank percentile: the smallest sample at or above ``share`` of them (0 < share <= 1)."""
    if not samples or not 0 < share <= 1:
        raise ValueError("percentile of no samples, or of a share outside (0, 1]")
    ordered = sorted(samples)
    rank = -(-len(ordered) * share // 1)  # ceil without floats' surprises for whole products
    return ordered[int(rank) - 1]


def summary(samples_ms: list[float], records: int = 1) -> dict[str, Any]:
    """p50, p99 and mean of a request's duration, and per record when a request carries ``records``."""
    p50, p99 = percentile(samples_ms, 0.5), percentile(samples_ms, 0.99)
    found = {"requests": len(samples_ms), "p50_ms": round(p50, 3), "p99_ms": round(p99, 3),
             "mean_ms": round(sum(samples_ms) / len(samples_ms), 3)}  # fmt: skip
    if records > 1:
        found |= {"records": records, "p50_ms_per_record": round(p50 / records, 4),
                  "p99_ms_per_record": round(p99 / records, 4)}  # fmt: skip
    return found


def dynamo_client(name: str, handler: Any) -> Any:
    """The one botocore client each handler sends its DynamoDB requests through."""
    if name == "floor":
        return handler.client
    from trial_ledger.dynamo.items import LedgerItem  # noqa: PLC0415 (a layer module: the handler imported it)
    from trial_ledger.dynamo.store import LedgerStore  # noqa: PLC0415

    client = LedgerItem._get_connection().connection.client
    assert LedgerStore().client is client, "the store and the models no longer share one client: stub both"
    return client


class Replay:
    def __init__(self, name: str, recording: dict[str, Any]) -> None:
        self.handler = importlib.import_module(HANDLERS[name])
        self.stubber = Stubber(dynamo_client(name, self.handler))
        self.stubber.activate()
        self.recording = recording

    def send(self, operation: str, index: int, request: Request) -> float:
        """Send one request answered as recorded; its handler's duration in ms."""
        recorded = self.recording[operation][index]
        assert recorded["step"] == request.step
        for call_operation, _params, response in recorded["calls"]:
            self.stubber.add_response(xform_name(call_operation), response)
        event = http_event("POST", request.path, body=json.dumps(request.body), iam_principal=GATEWAY_ROLE_ARN)
        context = LocalLambdaContext("warm")
        started = time.perf_counter()
        answer = self.handler.lambda_handler(event, context)
        elapsed = (time.perf_counter() - started) * 1000
        body = json.loads(answer["body"])
        assert answer["statusCode"] == 200, (operation, request.step, body)
        assert normalised(body) == normalised(recorded["body"]), (operation, request.step, body)
        if "request_id" in request.body:
            assert body["request_id"] == request.body["request_id"]
        self.stubber.assert_no_pending_responses()  # every recorded request was sent, and no other
        return elapsed

    def rounds(self, operation: str, count: int, tag: str) -> list[float]:
        timed = []
        for round_ in range(count):
            sent = requests(operation, f"{tag}-{round_}")
            durations = [self.send(operation, index, request) for index, request in enumerate(sent)]
            timed.append(durations[-1])
        return timed


def main() -> None:
    name, recording_path, out_path = sys.argv[1:4]
    rounds = int(sys.argv[4]) if len(sys.argv) > 4 else TIMED_ROUNDS
    recording = json.loads(Path(recording_path).read_text(encoding="utf-8"))[name]
    replay = Replay(name, recording)
    results: dict[str, Any] = {}
    for operation in OPERATIONS:
        replay.rounds(operation, WARMUP_ROUNDS, f"{operation}-warmup")
        gc.collect()
        samples = replay.rounds(operation, rounds, operation)
        records = len(requests(operation, "x")[-1].body.get("records", [None]))
        results[operation] = summary(samples, records)
    results["max_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    Path(out_path).write_text(json.dumps(results), encoding="utf-8")


if __name__ == "__main__":
    main()
