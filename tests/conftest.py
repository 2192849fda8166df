"""Shared fixtures: a moto DynamoDB table built from template.yaml, held to DynamoDB's limits
(infra/testing/dynamo_limits.py), a frozen clock, a ledger."""

from __future__ import annotations

import os

from infra.local.events import LOCAL_PRINCIPALS

os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "TABLE_NAME": "trial-quota-test",
        "POWERTOOLS_METRICS_NAMESPACE": "TrialQuota",
        "POWERTOOLS_SERVICE_NAME": "trial-quota",
        "POWERTOOLS_TRACE_DISABLED": "true",
        # moto in this process is not safe under concurrent requests: the nightly run works one
        # shard at a time here; tests/ledger/test_expiry_parallel.py serializes moto to run it wide.
        "EXPIRY_WORKERS": "1",
        **LOCAL_PRINCIPALS,  # R21: the principals the IAM routes admit, as make run's
    }
)
os.environ.pop("DYNAMODB_ENDPOINT_URL", None)
os.environ.pop("CATALOG_JSON", None)
os.environ.pop("CATALOG_FILE", None)

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.client import BaseClient
from moto import mock_aws

from infra.local.template import create_ledger_table
from infra.testing import dynamo_limits, moto_speed, moto_transactions
from tests.support import AWS, CAMPAIGN_CLOSE, START, DynamoCalls
from trial_ledger import Ledger, SwitchableClock
from trial_ledger.config.catalog import default_catalog_document, parse_catalog
from trial_ledger.dynamo.store import LedgerStore
from trial_ledger.retry import Backoff

TABLE_NAME = os.environ["TABLE_NAME"]
moto_transactions.install()
dynamo_limits.install()  # every moto of the suite refuses what DynamoDB refuses
moto_speed.install()  # and answers as moto does, faster (infra/testing/moto_speed.py)


@pytest.fixture
def dynamodb() -> Iterator[Any]:
    with mock_aws():
        client = AWS.client("dynamodb", region_name="us-east-1")  # the suite's one session
        create_ledger_table(client, TABLE_NAME)
        yield client


@pytest.fixture
def clock() -> SwitchableClock:
    return SwitchableClock(frozen_at=START)


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def store(dynamodb: Any) -> LedgerStore:
    return LedgerStore()


@pytest.fixture
def ledger(store: LedgerStore, clock: SwitchableClock, sleeps: list[float]) -> Ledger:
    return Ledger(
        store=store,
        catalog=parse_catalog(default_catalog_document()),
        clock=clock,
        campaign_close=CAMPAIGN_CLOSE,
        backoff=Backoff(sleep=sleeps.append),
    )


@pytest.fixture
def other(ledger: Ledger, store: LedgerStore) -> Ledger:
    """Another container: same table and clock, its own snapshots."""
    return Ledger(store=store, catalog=ledger.catalog, clock=ledger.clock)


@pytest.fixture
def activated(ledger: Ledger) -> str:
    ledger.activate("acct-1")
    return "acct-1"


@pytest.fixture
def dynamo_calls(monkeypatch: pytest.MonkeyPatch) -> DynamoCalls:
    """Count the ledger's DynamoDB requests by wrapping botocore's single API entry point."""
    recorder = DynamoCalls()
    original = BaseClient._make_api_call  # type: ignore[attr-defined]

    def recording(self: BaseClient, operation_name: str, api_params: dict[str, Any]) -> Any:
        if self.meta.service_model.service_name == "dynamodb":
            recorder.calls.append((operation_name, api_params))
        return original(self, operation_name, api_params)

    monkeypatch.setattr(BaseClient, "_make_api_call", recording)
    return recorder


@pytest.fixture
def handlers(ledger: Ledger, monkeypatch: pytest.MonkeyPatch) -> Ledger:
    """Point both HTTP functions at the test ledger (moto table, frozen clock)."""
    import claim_handler
    import consume_handler

    monkeypatch.setattr(claim_handler, "ledger", ledger)
    monkeypatch.setattr(consume_handler, "ledger", ledger)
    return ledger


LONGEST_FIRST = ("tests/local/test_local_holds.py", "tests/local/test_schemathesis.py")
"""The files that take longest (the 2,000-hold test, Schemathesis), run first: make test's workers
(pytest-xdist, a file each at a time) take the files in this order, and the rest fill in beside."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        path = item.nodeid.partition("::")[0]
        return LONGEST_FIRST.index(path) if path in LONGEST_FIRST else len(LONGEST_FIRST)

    items.sort(key=rank)  # stable: each file's tests keep their order
