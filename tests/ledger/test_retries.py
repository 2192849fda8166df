"""Bounded retries with jitter: botocore's for throttling and 5xx, the ledger's own for
cancelled transactions; past the bound, TemporarilyUnavailable and nothing half-written."""

from collections.abc import Iterator

import pytest
from botocore.retries import standard

from tests.support import LANG_90, MILLION
from tests.support.faults import FaultInjector, injected_faults
from trial_ledger import Ledger, TemporarilyUnavailable
from trial_ledger.retry import Backoff


@pytest.fixture
def faults(monkeypatch: pytest.MonkeyPatch, dynamodb: object) -> Iterator[FaultInjector]:
    with injected_faults(monkeypatch) as injector:
        yield injector


@pytest.fixture
def botocore_delays(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """botocore's jittered delays, recorded instead of slept."""
    delays: list[float] = []
    original = standard.ExponentialBackoff.delay_amount

    def record(self: standard.ExponentialBackoff, context: standard.RetryContext) -> float:
        delays.append(original(self, context))
        return 0.0

    monkeypatch.setattr(standard.ExponentialBackoff, "delay_amount", record)
    return delays


def test_transaction_conflict_is_retried_with_jitter(
    ledger: Ledger, faults: FaultInjector, sleeps: list[float]
) -> None:
    ledger.authorize("a", LANG_90)
    faults.fail("TransactWriteItems", "conflict", times=3)
    result = ledger.record_usage("a", LANG_90, 10, "r1")
    assert result.free_remaining == MILLION - 10
    assert faults.injected == ["TransactWriteItems:conflict"] * 3
    assert len(sleeps) == 3
    assert all(0 <= delay <= 0.2 for delay in sleeps)
    assert ledger.grants("a")[0].used == 10


def test_endless_conflict_gives_up_and_writes_nothing(
    ledger: Ledger, faults: FaultInjector, sleeps: list[float]
) -> None:
    ledger.authorize("a", LANG_90)
    faults.fail("TransactWriteItems", "conflict", times=500)
    with pytest.raises(TemporarilyUnavailable):
        ledger.record_usage("a", LANG_90, 10, "r1")
    # An append to a grant's ledger retries until it has waited its budget (R19: entries of one
    # grant are serialized, a conflict is another writer's progress), then gives up.
    assert sum(sleeps[:-1]) < Backoff().entry_race_seconds <= sum(sleeps)
    assert len(sleeps) > Backoff().attempts
    assert ledger.grants("a")[0].used == 0
    assert ledger.usage("a").items == []


@pytest.mark.parametrize("kind", ["throttle", "provisioned", "internal"])
def test_botocore_retries_transient_errors(
    ledger: Ledger, faults: FaultInjector, botocore_delays: list[float], kind: str
) -> None:
    ledger.authorize("a", LANG_90)
    faults.fail("TransactWriteItems", kind, times=2)
    assert ledger.record_usage("a", LANG_90, 10, "r1").free == 10
    assert len(botocore_delays) == 2
    assert ledger.grants("a")[0].used == 10


def test_persistent_throttling_is_temporarily_unavailable(
    ledger: Ledger, faults: FaultInjector, botocore_delays: list[float]
) -> None:
    faults.fail("BatchGetItem", "throttle", times=10)
    with pytest.raises(TemporarilyUnavailable) as raised:
        ledger.authorize("a", LANG_90)
    assert raised.value.retry_after_seconds >= 1
    assert len(botocore_delays) == 3  # four attempts, then the ledger gives up


def test_lost_response_after_the_write_is_not_charged_twice(
    ledger: Ledger, faults: FaultInjector, botocore_delays: list[float]
) -> None:
    ledger.authorize("a", LANG_90)
    faults.fail("TransactWriteItems", "timeout_after_write", times=1)
    result = ledger.record_usage("a", LANG_90, 10, "r1")
    assert (result.free, result.replayed, result.free_remaining) == (10, False, MILLION - 10)
    assert ledger.grants("a")[0].used == 10
    again = ledger.record_usage("a", LANG_90, 10, "r1")
    assert again.replayed is True
    assert ledger.grants("a")[0].used == 10
