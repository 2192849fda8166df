"""The nightly run works the shards of the expiry index side by side: every due grant expires once,
the report adds up, a run cut short is carried on by the next, and requests really overlap.

moto in this process is not safe under concurrent requests, so each DynamoDB request here is
serialized by a lock, as the embedded DynamoDB of the local stack serializes them; the workers
still issue them from several threads at once, which is what is checked."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from botocore.client import BaseClient

from tests.support import LANG_30, LANG_90, MILLION
from trial_ledger import Ledger, SwitchableClock
from trial_ledger.dynamo.keys import EXPIRY_SHARDS, expiry_shard_of

ACCOUNTS = 120


class InFlight:
    def __init__(self) -> None:
        self.now = 0
        self.most = 0
        self._count = threading.Lock()


@pytest.fixture
def in_flight(monkeypatch: pytest.MonkeyPatch) -> InFlight:
    original = BaseClient._make_api_call  # type: ignore[attr-defined]
    serial = threading.Lock()
    seen = InFlight()

    def serialized(self: BaseClient, operation_name: str, api_params: dict[str, Any]) -> Any:
        with seen._count:
            seen.now += 1
            seen.most = max(seen.most, seen.now)
        try:
            with serial:
                return original(self, operation_name, api_params)
        finally:
            with seen._count:
                seen.now -= 1

    monkeypatch.setattr(BaseClient, "_make_api_call", serialized)
    return seen


@pytest.fixture
def due(ledger: Ledger, clock: SwitchableClock) -> list[str]:
    """ACCOUNTS accounts, each with a 30-day grant (7 units used) and a 90-day one; 30 days on."""
    accounts = [f"parallel-{index}" for index in range(ACCOUNTS)]
    for account in accounts:
        ledger.record_usage(account, LANG_30, 7, f"{account}-use")
        ledger.authorize(account, LANG_90)
    clock.advance(timedelta(days=30))
    assert len({expiry_shard_of(account, LANG_30) for account in accounts}) == EXPIRY_SHARDS
    return accounts


def test_every_due_grant_expires_once_across_parallel_shards(
    ledger: Ledger, clock: SwitchableClock, due: list[str], in_flight: InFlight
) -> None:
    report = ledger.expire_due(clock.now(), workers=8)
    assert (report.expired_grants, report.expired_quantity, report.complete) == (
        ACCOUNTS, ACCOUNTS * (MILLION - 7), True
    )  # fmt: skip
    assert in_flight.most > 1  # the shards' requests were in flight together
    again = ledger.expire_due(clock.now(), workers=8)
    assert (again.expired_grants, again.expired_quantity) == (0, 0)
    for account in due:
        grants = {grant.model_id: grant for grant in ledger.grants(account)}
        assert (grants[LANG_30].status.value, grants[LANG_30].expired) == ("expired", MILLION - 7)
        assert grants[LANG_90].status.value == "active"


def test_a_parallel_run_cut_short_is_carried_on_by_the_next(
    ledger: Ledger, clock: SwitchableClock, due: list[str], in_flight: InFlight
) -> None:
    pages = iter(range(6))
    first = ledger.expire_due(clock.now(), keep_going=lambda: next(pages, None) is not None, page_size=3, workers=4)
    assert not first.complete
    assert 0 < first.expired_grants < ACCOUNTS
    second = ledger.expire_due(clock.now(), workers=4)
    assert second.complete
    assert first.expired_grants + second.expired_grants == ACCOUNTS
    assert first.expired_quantity + second.expired_quantity == ACCOUNTS * (MILLION - 7)
