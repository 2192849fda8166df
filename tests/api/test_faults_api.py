"""Faults at the DynamoDB wire, seen through the gateway routes: bounded retries, then success or a
503 with Retry-After; never a partial write, never a double charge. Each case ends with the audit."""

from collections.abc import Iterator

import pytest
from botocore.retries import standard

from infra.tools.audit import audit
from tests.support import LANG_90, MILLION
from tests.support.api import gateway
from tests.support.faults import FaultInjector, injected_faults
from trial_ledger import Ledger

pytestmark = pytest.mark.usefixtures("handlers")
KINDS = ["throttle", "provisioned", "internal", "conflict"]
USAGE = {"account_id": "acct-f", "model_id": LANG_90, "quantity": 100, "request_id": "f-1"}


@pytest.fixture
def faults(monkeypatch: pytest.MonkeyPatch, dynamodb: object) -> Iterator[FaultInjector]:
    monkeypatch.setattr(standard.ExponentialBackoff, "delay_amount", lambda self, context: 0.0)
    with injected_faults(monkeypatch) as injector:
        yield injector
    report = audit()
    assert report.ok, report.violations


@pytest.fixture
def warm(handlers: Ledger) -> Ledger:
    assert gateway("POST", "/v1/authorizations", {"account_id": "acct-f", "model_id": LANG_90}).status == 200
    return handlers


@pytest.mark.parametrize("kind", KINDS)
def test_a_passing_fault_is_retried_to_success(faults: FaultInjector, warm: Ledger, kind: str) -> None:
    faults.fail("TransactWriteItems", kind, times=2)
    reply = gateway("POST", "/v1/usage", USAGE)
    assert (reply.status, reply.body["free"], reply.body["free_remaining"]) == (200, 100, MILLION - 100)
    assert faults.injected == [f"TransactWriteItems:{kind}"] * 2


LASTING = [("TransactWriteItems", kind) for kind in KINDS] + [
    ("BatchGetItem", kind)
    for kind in KINDS
    if kind != "conflict"  # only transactions are cancelled
]


@pytest.mark.parametrize(("operation", "kind"), LASTING)
def test_a_lasting_fault_is_503_and_writes_nothing(
    faults: FaultInjector, handlers: Ledger, operation: str, kind: str
) -> None:
    faults.fail(operation, kind, times=1000)
    reply = gateway("POST", "/v1/usage", USAGE)
    assert (reply.status, reply.code) == (503, "temporarily_unavailable")
    assert int(reply.headers["retry-after"]) >= 1
    faults.faults.clear()
    assert handlers.usage("acct-f").items == []
    again = gateway("POST", "/v1/usage", USAGE)  # the gateway's retry, later
    assert (again.status, again.body["free"], again.body["replayed"]) == (200, 100, False)


def test_a_response_lost_after_the_write_is_never_charged_twice(faults: FaultInjector, warm: Ledger) -> None:
    faults.fail("TransactWriteItems", "timeout_after_write", times=1)
    first = gateway("POST", "/v1/usage", USAGE)
    assert (first.status, first.body["free_remaining"], first.body["replayed"]) == (200, MILLION - 100, False)
    faults.fail("TransactWriteItems", "timeout_after_write", times=10)  # every answer lost from now on
    retried = gateway("POST", "/v1/usage", USAGE)
    assert retried.status in (200, 503)
    faults.faults.clear()
    replay = gateway("POST", "/v1/usage", USAGE)
    assert (replay.status, replay.body["replayed"], replay.body["free"]) == (200, True, 100)
    assert warm.grants("acct-f")[0].used == 100


def test_admission_under_throttling_is_503(faults: FaultInjector, handlers: Ledger) -> None:
    faults.fail("BatchGetItem", "throttle", times=1000)
    reply = gateway("POST", "/v1/authorizations", {"account_id": "acct-f", "model_id": LANG_90})
    assert (reply.status, reply.code) == (503, "temporarily_unavailable")
    faults.faults.clear()
    assert handlers.grants("acct-f") == []
