"""Schemathesis against docs/openapi.json, over real HTTP on the local stack (`make run`'s server).

Every operation of the document is fuzzed in all of Schemathesis' phases (the document's examples,
the coverage phase's boundary and negative cases, random positive and negative fuzzing, and
stateful sequences over the document's links and those Schemathesis infers), with a fixed seed and
a bounded number of examples per operation and steps per scenario. The run must end without a
server error or a response the document does not describe, and the ledger audit must pass over
everything the run wrote.

Checks (see `st run --help`), and why the others are off:

- on: ``not_a_server_error``, ``status_code_conformance``, ``content_type_conformance``,
  ``response_schema_conformance``, ``response_headers_conformance``;
  ``negative_data_rejection`` (a request the document forbids must be a 4xx: the contract's "a
  body or query that breaks the schema is 422"); ``positive_data_acceptance`` (a request the
  document allows must not be refused as malformed: 2xx, or one of the contract's business
  answers 402/403/404/409, listed in CONFIG; so every constraint the service enforces must be in
  the document, which is how ``uniqueItems`` on a claim's models was found missing);
  ``use_after_free`` and ``ensure_resource_availability`` over the stateful phase's links (a hold
  taken is there for its release; a read after a DELETE would be flagged, and a DELETE after a
  DELETE is R15's "how it ended", which the check itself allows).
- ``positive_data_acceptance`` has two exceptions, both in CONFIG with their reasons: a ``cursor``
  of ``GET /v1/usage`` is opaque (only a ``next_cursor`` is accepted, which no schema can
  describe), so a generated one is a 422 there; and integers travel as integer literals, which
  JSON Schema 2020-12 cannot state (it counts ``4307.0`` as an integer): the run loads
  ``tests/support/schemathesis_hooks.py``, which spells whole floats as integers before each call.
- ``ignored_auth`` and ``missing_required_header`` off, and no generated security parameters: the
  only required header is the security schemes' ``Authorization``, which API Gateway's JWT
  authorizer and IAM check before a handler runs. Locally the identity is ``X-Account-Id`` and no
  token is verified, so these would test the emulator, not the service.
- ``object_level_authorization`` off: it needs a second identity the document describes, and the
  document's identities are tokens the local stack does not read (one ``X-Account-Id`` per run);
  the gateway routes have one caller by design, the inference gateway. Isolation between accounts
  is ``tests/local/test_local_isolation.py``'s.
- ``unsupported_method`` and ``allow_header_conformance`` off: the contract answers a method a
  route does not have with 404 ``not_found`` (docs/api.md, Errors), not 405 with ``Allow``. The
  coverage phase still sends those requests, every method it knows included, and they must not
  be 5xx: the local server hands every method to the gateway, which answers 404 (``HEAD`` without
  a body); in AWS, API Gateway answers them itself (CORS preflight, or 404 for no route).

Bodies Schemathesis cannot send are the bad-input corpus's (``tests/api/test_bad_input.py``): an
object with a repeated key, bytes that are not UTF-8, 5,000-digit integers.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.support.local_stack import ROOT, audit_stack, running_stack

pytestmark = pytest.mark.e2e

OPENAPI = ROOT / "docs" / "openapi.json"
SEED = 20260301
MAX_EXAMPLES = 100
"""Per operation and phase (see the figures in docs/reliability.md)."""
MAX_STEPS = 10
"""Per stateful scenario: a hold, its settle, its release and their replays fit."""
CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
    "negative_data_rejection",
    "positive_data_acceptance",
    "use_after_free",
    "ensure_resource_availability",
]
CONFIG = f"""
# The contract's business answers to a well-formed request: a stop reason (402), no activation
# (403), an unknown model or hold (404), a request_id recorded with another body (409).
[checks.positive_data_acceptance]
expected-statuses = ["2xx", "402", "403", "404", "409"]

# A cursor is opaque: only the next_cursor of a page of the same listing is one (else 400
# invalid_cursor; a string of the schema's length can be any other).
[[operations]]
include-name = "GET /v1/usage"
checks.positive_data_acceptance.expected-statuses = ["2xx", "400"]

[[operations]]
include-name = "GET /v1/trials/{{model_id}}/ledger"
checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "404"]

# The operator routes answer the operators' principal (locally X-Principal stands in for it, R21).
[[operations]]
include-path-regex = "^/v1/admin/"
headers = {{ "X-Principal" = "operator" }}

[[operations]]
include-name = "GET /v1/admin/grants/ledger"
headers = {{ "X-Principal" = "operator" }}
checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "404"]

[phases.stateful]
max-steps = {MAX_STEPS}
"""
HOOKS = "tests.support.schemathesis_hooks"
BODY_OPERATIONS = {
    "PUT /v1/account/postpaid",
    "POST /v1/trials/claims",
    "POST /v1/authorizations",
    "POST /v1/usage",
    "POST /v1/usage/batch",
    "POST /v1/holds",
    "POST /v1/usage/reversals",
    "POST /v1/admin/grants/extension",
    "POST /v1/admin/grants/void",
}


@dataclass(frozen=True)
class Failure:
    phase: str
    operation: str
    check: str
    code: str
    message: str
    request: dict[str, Any]

    def __str__(self) -> str:
        return f"[{self.phase}] {self.operation} {self.check} {self.code}: {self.message}\n    request: {self.request}"


@dataclass(frozen=True)
class KnownFailure:
    """A failure the service has today: it must still reproduce, on exactly these operations."""

    code: str
    message_contains: str
    operations: frozenset[str]
    reason: str

    def matches(self, failure: Failure) -> bool:
        return (
            failure.code == self.code
            and self.message_contains in failure.message
            and failure.operation in self.operations
        )


KNOWN_FAILURES: list[KnownFailure] = []
"""Failures the service is known to have today (each must keep reproducing until fixed). The
multipart-without-boundary 500 it found first is fixed: trial_edge.body_guard answers 415."""


def run_schemathesis(url: str, workdir: Path) -> tuple[subprocess.CompletedProcess[str], list[dict[str, Any]]]:
    config = workdir / "schemathesis.toml"
    config.write_text(CONFIG)
    events_path = workdir / "events.ndjson"
    command = [
        sys.executable, "-m", "schemathesis.cli", "--config-file", str(config), "run", str(OPENAPI),
        "--url", url,
        "--header", "X-Account-Id: fuzz-account",
        "--checks", ",".join(CHECKS),
        "--generation-with-security-parameters", "false",
        "--max-examples", str(MAX_EXAMPLES),
        "--seed", str(SEED),
        "--workers", "2",
        "--continue-on-failure",
        "--generation-database", "none",
        "--request-timeout", "30",
        "--no-color",
        "--report", "ndjson", "--report-ndjson-path", str(events_path),
    ]  # fmt: skip
    # cwd: Schemathesis and Hypothesis leave their own directories behind; keep them out of the repo.
    env = os.environ | {"SCHEMATHESIS_HOOKS": HOOKS, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(command, cwd=workdir, env=env, capture_output=True, text=True, timeout=600, check=False)
    assert events_path.is_file(), f"schemathesis did not run (exit {done.returncode}):\n{done.stdout}\n{done.stderr}"
    events = [json.loads(line) for line in events_path.read_text().splitlines() if line.strip()]
    return done, events


def operation_of(request: dict[str, Any]) -> str:
    """``METHOD /path``, with a path that names an id written as its template (``{request_id}``)."""
    path = urlsplit(request["uri"]).path
    if path.startswith("/v1/holds/"):
        path = "/v1/holds/{request_id}"
    elif path.startswith("/v1/admin/accounts/"):
        path = "/v1/admin/accounts/{account_id}"
    elif path.startswith("/v1/trials/") and path.endswith("/ledger"):
        path = "/v1/trials/{model_id}/ledger"
    return f"{request['method']} {path}"


def failures_in(events: list[dict[str, Any]]) -> list[Failure]:
    found = []
    for event in events:
        scenario = event.get("ScenarioFinished")
        if not scenario:
            continue
        recorder = scenario["recorder"]
        for case_id, checks in (recorder.get("checks") or {}).items():
            for check in checks:
                if check["status"] == "success":
                    continue
                failure = (check.get("failure_info") or {}).get("failure") or {}
                case = (recorder.get("cases") or {}).get(case_id, {}).get("value", {})
                request = {key: case.get(key) for key in ("method", "path", "headers", "query", "body") if key in case}
                found.append(
                    Failure(
                        phase=scenario["phase"],
                        operation=failure.get("operation") or recorder.get("label", "?"),
                        check=check["name"],
                        code=failure.get("code", "?"),
                        message=failure.get("message") or failure.get("title") or json.dumps(check)[:500],
                        request=request,
                    )
                )
    return found


def figures(events: list[dict[str, Any]]) -> dict[str, Any]:
    """Requests per documented operation (the rest are the coverage phase's unexpected-method
    probes), per phase, and the status codes each operation answered."""
    documented = set(json_operations())
    per_operation: Counter[str] = Counter()
    per_phase: Counter[str] = Counter()
    statuses: defaultdict[str, Counter[int]] = defaultdict(Counter)
    for event in events:
        scenario = event.get("ScenarioFinished")
        if not scenario:
            continue
        for interaction in (scenario["recorder"].get("interactions") or {}).values():
            operation = operation_of(interaction["request"])
            operation = operation if operation in documented else "(undocumented method probes)"
            per_operation[operation] += 1
            per_phase[scenario["phase"]] += 1
            if interaction.get("response"):
                statuses[operation][interaction["response"]["status_code"]] += 1
    return {
        "requests": sum(per_operation.values()),
        "per_phase": dict(per_phase),
        "per_operation": {
            operation: {"requests": count, "statuses": dict(sorted(statuses[operation].items()))}
            for operation, count in sorted(per_operation.items())
        },
    }


def json_operations() -> list[str]:
    document = json.loads(OPENAPI.read_text())
    return [f"{method.upper()} {path}" for path, item in document["paths"].items() for method in item]


def test_schemathesis_finds_nothing_new(tmp_path: Path) -> None:
    started = time.monotonic()
    with running_stack() as stack:
        # A fixed instant inside the campaign: claims behave the same whatever today's date is.
        stack.call("PUT", "/_local/clock", {"now": "2026-06-01T00:00:00Z"})
        done, events = run_schemathesis(stack.url, tmp_path)
        report = audit_stack(stack)
    elapsed = time.monotonic() - started

    stats = figures(events)
    engine = [event["EngineFinished"] for event in events if "EngineFinished" in event]
    print(
        f"\nschemathesis: {stats['requests']} requests, {engine[0]['running_time'] if engine else 0:.1f} s of "
        f"{elapsed:.1f} s with the stack (seed {SEED}, max {MAX_EXAMPLES} examples); per phase {stats['per_phase']}"
    )
    for operation, figure in stats["per_operation"].items():
        print(f"  {operation:32} {figure['requests']:4}  {figure['statuses']}")

    kinds = Counter(next(iter(event)) for event in events)
    errors = {kind: kinds[kind] for kind in ("FatalError", "NonFatalError", "Interrupted") if kinds[kind]}
    assert not errors, done.stdout[-5000:] + done.stderr[-3000:]
    assert [finished["stop_reason"] for finished in engine] == ["completed"], done.stdout[-5000:]
    assert set(json_operations()) <= set(stats["per_operation"]), sorted(stats["per_operation"])

    failures = failures_in(events)
    unexpected = [failure for failure in failures if not any(known.matches(failure) for known in KNOWN_FAILURES)]
    assert not unexpected, "schemathesis found:\n" + "\n".join(map(str, unexpected)) + "\n\n" + done.stdout[-8000:]
    for known in KNOWN_FAILURES:
        reproduced = {failure.operation for failure in failures if known.matches(failure)}
        assert reproduced == known.operations, f"known failure no longer (fully) reproduces, {reproduced}: {known}"
    assert done.returncode == (1 if failures else 0), done.stdout[-5000:] + done.stderr[-3000:]

    assert report["ok"], report["violations"]
