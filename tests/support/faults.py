"""Fault injection at the DynamoDB wire: answers chosen requests with an AWS error (or lets the
request through and then loses the response), before moto sees or after moto applied them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import botocore.exceptions
import pytest
from botocore.awsrequest import AWSResponse
from moto.core.botocore_stubber import BotocoreStubber, MockRawResponse

_ERRORS = {
    "throttle": (400, "ThrottlingException"),
    "provisioned": (400, "ProvisionedThroughputExceededException"),
    "internal": (500, "InternalServerError"),
}


@dataclass
class Fault:
    operation: str
    kind: str
    times: int
    reasons: int = 2


@dataclass
class FaultInjector:
    faults: list[Fault] = field(default_factory=list)
    injected: list[str] = field(default_factory=list)
    passed: list[str] = field(default_factory=list)

    def fail(self, operation: str, kind: str, times: int = 1, reasons: int = 2) -> None:
        """``kind``: throttle, provisioned, internal, conflict (a cancelled transaction),
        timeout_after_write (the request is applied, then its response is lost)."""
        self.faults.append(Fault(operation, kind, times, reasons))

    def _take(self, operation: str) -> Fault | None:
        for fault in self.faults:
            if fault.operation == operation and fault.times > 0:
                fault.times -= 1
                return fault
        return None

    def handle(self, original: Any, stubber: BotocoreStubber, event_name: str, request: Any, **kwargs: Any) -> Any:
        target = request.headers.get("X-Amz-Target", b"")
        operation = (target.decode() if isinstance(target, bytes) else target).rpartition(".")[2]
        fault = self._take(operation)
        if fault is None:
            self.passed.append(operation)
            return original(stubber, event_name, request, **kwargs)
        self.injected.append(f"{operation}:{fault.kind}")
        if fault.kind == "timeout_after_write":
            original(stubber, event_name, request, **kwargs)
            raise botocore.exceptions.ReadTimeoutError(endpoint_url=request.url)
        if fault.kind == "conflict":
            reasons = [{"Code": "TransactionConflict", "Message": "conflict"}] + [{"Code": "None"}] * (
                fault.reasons - 1
            )
            body = {"__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
                    "message": "Transaction cancelled", "CancellationReasons": reasons}  # fmt: skip
            status = 400
        else:
            status, code = _ERRORS[fault.kind]
            body = {"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": "injected fault"}
        headers = {"Content-Type": "application/x-amz-json-1.0", "x-amzn-RequestId": "fault"}
        return AWSResponse(request.url, status, headers, MockRawResponse(json.dumps(body)))  # type: ignore[arg-type]


@contextmanager
def injected_faults(monkeypatch: pytest.MonkeyPatch) -> Iterator[FaultInjector]:
    injector = FaultInjector()
    original = BotocoreStubber.__call__

    def patched(self: BotocoreStubber, event_name: str, request: Any, **kwargs: Any) -> Any:
        return injector.handle(original, self, event_name, request, **kwargs)

    monkeypatch.setattr(BotocoreStubber, "__call__", patched)
    yield injector
