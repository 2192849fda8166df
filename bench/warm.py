"""`make bench ONLY=warm` (issue 25, part 3): what a warm request costs, and each function's RSS.

1. bench/warm_record.py sends each operation's requests (bench/warm_scenario.py) once through the
   consume handler and through the floor (bench/warm_floor_handler.py), on moto, and keeps what
   DynamoDB answered; the floor must answer as the service does.
2. bench/warm_replay.py, in a fresh process per handler and without moto, sends them again
   (2,000 timed rounds after 200 untimed) with botocore's Stubber answering as recorded.
3. Each function's RSS after init, in a fresh interpreter per function (median of 5)."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.deployed import deployed_code
from bench.warm_replay import TIMED_ROUNDS, WARMUP_ROUNDS
from bench.warm_scenario import HANDLERS, OPERATIONS, lambda_environment, normalised
from infra.local.lambda_container import ROOT
from infra.local.template import load_template

LEDGER_READY = (
    "from trial_ledger.dynamo.items import LedgerItem; from trial_ledger.dynamo.store import LedgerStore; "
    "LedgerStore().client; LedgerItem._get_connection().connection.client"
)
RSS_PROBES = {
    "claim": ("claim_handler", LEDGER_READY, "functions/claim"),
    "consume": ("consume_handler", LEDGER_READY, "functions/consume"),
    "expiry": ("expiry_handler", LEDGER_READY, "functions/expiry"),
    "events": ("events_handler", "events_handler.event_bus()", "functions/events"),
    "powertools_floor": ("floor_handler", "floor_handler.boto3.client('dynamodb')", "bench"),
    "warm_floor": ("warm_floor_handler", "", "bench"),
    "bare_boto3": ("boto3", "boto3.client('dynamodb')", "functions"),
}
"""Import and init until the function's first client exists, as bench/run.py's init probe does."""
RSS_PROBE = """
import {module}
{ready}
status = open("/proc/self/status").read()
print(next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")))
"""
RSS_RUNS = 5


def template_memory_mb() -> int:
    """The functions' MemorySize (template.yaml's Globals)."""
    return int(load_template()["Globals"]["Function"]["MemorySize"])


def _run(args: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(  # noqa: S603 (our own modules)
        [sys.executable, "-m", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        check=False,
    )
    if done.returncode:
        raise RuntimeError(f"{' '.join(args[:2])} failed:\n{done.stderr[-4000:]}")


def _same_answers(recording: dict[str, Any]) -> None:
    """The floor answers every request as the service does (ids and times masked)."""
    for operation in OPERATIONS:
        for service, floor in zip(recording["consume"][operation], recording["floor"][operation], strict=True):
            assert normalised(service["body"]) == normalised(floor["body"]), (operation, service["step"])
            operations = [[call[0] for call in answer["calls"]] for answer in (service, floor)]
            assert operations[0] == operations[1], (operation, service["step"], operations)


def replay_times(rounds: int = TIMED_ROUNDS) -> dict[str, Any]:
    """Each handler's warm duration per operation (bench/warm_replay.py's summary)."""
    env = lambda_environment()
    found: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as folder:
        recording = Path(folder) / "recording.json"
        _run(["bench.warm_record", str(recording)], env)
        _same_answers(json.loads(recording.read_text(encoding="utf-8")))
        for name in HANDLERS:
            out = Path(folder) / f"{name}.json"
            print(f"  warm: {name}...", flush=True)
            _run(["bench.warm_replay", name, str(recording), str(out), str(rounds)], env)
            found[name] = json.loads(out.read_text(encoding="utf-8"))
    return found


def rss_after_init(runs: int = RSS_RUNS) -> dict[str, float]:
    """Each function's resident set (MB) once its handler is imported and its client created."""
    env = lambda_environment()
    found = {}
    with deployed_code() as code:  # our modules precompiled, as deployed
        for name, (module, ready, code_dir) in RSS_PROBES.items():
            env["PYTHONPATH"] = code.pythonpath(code_dir)
            samples = []
            for _ in range(runs):
                done = subprocess.run(  # noqa: S603 (our own probe)
                    [sys.executable, "-c", RSS_PROBE.format(module=module, ready=ready)],
                    env=env, capture_output=True, text=True, check=True,
                )  # fmt: skip
                samples.append(int(done.stdout.split()[-1]) / 1024)
            found[name] = round(statistics.median(samples), 1)
    return found


def measure() -> dict[str, Any]:
    return {
        "warm": {
            "handlers": replay_times(),
            "timed_rounds": TIMED_ROUNDS,
            "warmup_rounds": WARMUP_ROUNDS,
            "memory_mb": template_memory_mb(),
        },
        "rss_after_init_mb": rss_after_init(),
    }
