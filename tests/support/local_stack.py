"""Start `python -m infra.local.api` (what `make run` runs) on a free port, and talk to it."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: Any


@dataclass
class LocalStack:
    url: str
    dynamodb_url: str
    table: str
    pid: int
    """The server's process, which leads its own process group (as `make run` in a terminal)."""

    def call(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> Answer:
        data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
        request = urllib.request.Request(self.url + path, data=data, method=method, headers=headers or {})
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                status, raw, got = response.status, response.read(), dict(response.headers.items())
        except urllib.error.HTTPError as error:
            status, raw, got = error.code, error.read(), dict(error.headers.items())
        return Answer(status, {k.lower(): v for k, v in got.items()}, json.loads(raw) if raw else None)

    def console(self, method: str, path: str, account: str, body: Any = None, sub: str | None = None) -> Answer:
        headers = {"X-Account-Id": account} | ({"X-Sub-Account-Id": sub} if sub else {})
        return self.call(method, path, body, headers)

    def gateway(self, path: str, body: Any) -> Answer:
        return self.call("POST", path, body)

    def gateway_retrying(self, path: str, body: Any, retries: int = 5) -> Answer:
        """As the contract tells a gateway to meter: a 503 ``temporarily_unavailable`` (a grant's
        ledger appends kept losing races, docs/ledger.md) is sent again, the same request_id, after
        its ``Retry-After``; the answer that ends it is the one to check."""
        answer = self.gateway(path, body)
        for _ in range(retries):
            if answer.status != 503 or (answer.body or {}).get("code") != "temporarily_unavailable":
                return answer
            time.sleep(min(float(answer.headers.get("retry-after", "1")), 1.0))
            answer = self.gateway(path, body)
        return answer


@contextmanager
def running_stack(extra_env: dict[str, str] | None = None) -> Iterator[LocalStack]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "DYNAMODB_"))}
    env |= {"PORT": "0", "LOCAL_API_QUIET": "1", "TABLE_NAME": "trial-quota-e2e", "PYTHONUNBUFFERED": "1"}
    env |= extra_env or {}
    process = subprocess.Popen(
        [sys.executable, "-m", "infra.local.api"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + 60
        seen = []
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line and process.poll() is not None:
                break
            seen.append(line)
            if match := re.search(r"local API on (http://\S+) \(embedded DynamoDB at (http://[^)]+)\)", line):
                # Keep reading what the server prints, or a full pipe would block it.
                threading.Thread(target=process.stdout.read, daemon=True).start()
                yield LocalStack(match.group(1), match.group(2), env["TABLE_NAME"], process.pid)
                return
        raise RuntimeError("the local stack did not start:\n" + "".join(seen))
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def audit_stack(stack: LocalStack) -> dict[str, Any]:
    """Run `python -m infra.tools.audit` against the stack's embedded DynamoDB; returns its report."""
    done = subprocess.run(
        [sys.executable, "-m", "infra.tools.audit", "--endpoint-url", stack.dynamodb_url, "--table", stack.table],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    report: dict[str, Any] = json.loads(done.stdout)
    assert done.returncode == (0 if report["ok"] else 1), done.stderr
    return report
