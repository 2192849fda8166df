"""What each function imports at init (issue 14: import at init only what every invocation needs),
checked in a fresh interpreter: a use case's module is imported when it is first used, and all of
them before a SnapStart snapshot."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from infra.local.lambda_container import LAYER_DIRS, ROOT

USE_CASES = {"accounts", "claims", "metering", "batches", "holds", "history", "expiry", "hold_sweep"}
PROBE = """
import json, sys
import {module}
def loaded():
    return sorted(name.split(".")[2] for name in sys.modules if name.startswith("trial_ledger.use_cases.") and
                  name.split(".")[2] in {use_cases!r})
at_init = loaded()
{module}.ledger.prime()
print(json.dumps({{"at_init": at_init, "primed": loaded()}}))
"""


def imported(function: str, module: str) -> dict[str, list[str]]:
    path = os.pathsep.join([str(ROOT / "functions" / function), *(str(layer) for layer in LAYER_DIRS)])
    env = {key: value for key, value in os.environ.items() if not key.startswith("POWERTOOLS_")}
    env |= {"PYTHONPATH": path, "POWERTOOLS_METRICS_DISABLED": "true"}
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(module=module, use_cases=USE_CASES)],
        env=env, capture_output=True, text=True, check=True, timeout=120,
    )  # fmt: skip
    result: dict[str, list[str]] = json.loads(done.stdout)
    return result


@pytest.mark.parametrize(("function", "module"), [("claim", "claim_handler"), ("consume", "consume_handler")])
def test_an_api_function_imports_no_use_case_at_init_and_every_one_when_primed(function: str, module: str) -> None:
    modules = imported(function, module)
    assert modules["at_init"] == []
    assert set(modules["primed"]) == USE_CASES
