"""What each API function imports at init (issue 14: import at init only what every invocation
needs; issue 25: the init within 1.15x of the Powertools floor), checked in a fresh interpreter: a
use case's module and the schemas of the routes that are not hot are imported on first use, and
all of them by the SnapStart priming, before the snapshot, so that a restore imports nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from infra.local.lambda_container import LAYER_DIRS, ROOT

USE_CASES = {"trial_ledger.use_cases." + name for name in (
    "accounts", "claims", "metering", "batches", "holds", "history", "grant_ledger", "expiry", "hold_sweep",
    "corrections.reversals", "corrections.operator_actions")}  # fmt: skip
CORRECTIONS = {"trial_ledger." + name for name in (
    "correction_results", "domain.ledger_entries", "domain.planning.actions", "domain.planning.reversal",
    "dynamo.corrections.entry_mapping", "dynamo.corrections.action_writes", "dynamo.corrections.reversal_writes",
    "dynamo.indexes.queries", "dynamo.indexes.shard_merge", "dynamo.indexes.cursor", "job_results",
    "domain.index_entries")}  # fmt: skip
"""The ledger's modules of the corrections (reversals, operator actions, the grant's ledger), of the
listings and of the nightly jobs: no usage, hold or claim needs them."""
SCHEMAS = {"trial_edge.schemas." + name for name in ("common", "console", "gateway", "listings", "corrections")}
HOT_SCHEMAS = {
    "claim": {"trial_edge.schemas.common", "trial_edge.schemas.console"},
    "consume": {"trial_edge.schemas.common", "trial_edge.schemas.gateway"},
}
"""The schemas of a function's hot routes: the claim function's console routes but its listings;
the consume function's gateway routes (admission, usage, batches, holds) but reversals and the
operators' routes."""
RESULTS = {"claim": "trial_ledger.console_results", "consume": "trial_ledger.gateway_results"}
"""The values a function's routes return: its own only at init (the other's: the other function's)."""
PRIMING_ROUTES = {"claim": ("POST", "/v1/trials/claims"), "consume": ("POST", "/v1/usage")}
PROBE = """
import json, sys
import {module}
from trial_edge.snapstart import prime
watched = {watched!r}
def loaded():
    return sorted(name for name in sys.modules if name in watched)
at_init = loaded()
prime({module}.app, {module}.ledger, *{route!r})
print(json.dumps({{"at_init": at_init, "primed": loaded()}}))
"""


def imported(function: str) -> dict[str, set[str]]:
    path = os.pathsep.join([str(ROOT / "functions" / function), *(str(layer) for layer in LAYER_DIRS)])
    env = {key: value for key, value in os.environ.items() if not key.startswith("POWERTOOLS_")}
    env |= {"PYTHONPATH": path, "POWERTOOLS_METRICS_DISABLED": "true"}
    watched = USE_CASES | SCHEMAS | CORRECTIONS | set(RESULTS.values())
    probe = PROBE.format(module=f"{function}_handler", watched=watched, route=PRIMING_ROUTES[function])
    done = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True, timeout=120
    )  # fmt: skip
    return {moment: set(names) for moment, names in json.loads(done.stdout).items()}


@pytest.mark.parametrize("function", ["claim", "consume"])
def test_an_api_function_imports_at_init_only_its_hot_schemas_no_use_case_and_no_correction(function: str) -> None:
    assert imported(function)["at_init"] == HOT_SCHEMAS[function] | {RESULTS[function]}


@pytest.mark.parametrize("function", ["claim", "consume"])
def test_the_snapstart_priming_imports_every_use_case_and_every_schema(function: str) -> None:
    assert imported(function)["primed"] == USE_CASES | SCHEMAS | CORRECTIONS | set(RESULTS.values())
