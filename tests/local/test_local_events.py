"""End to end over real HTTP against `make run`: the ledger's changes reach the local event bus
through the table's stream and the events function, each fact once, within a few seconds."""

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.support import IMAGE, LANG_90
from tests.support.local_stack import LocalStack

pytestmark = pytest.mark.e2e
STACK_CLOCK = "2026-12-01T08:00:00Z"
PATIENCE_SECONDS = 60
"""How long to wait for events before failing: generous for a loaded machine; never asserted."""


def events_of(stack: LocalStack, account: str, detail_type: str | None = None) -> list[dict[str, Any]]:
    query = f"?detail_type={detail_type}" if detail_type else ""
    answer = stack.call("GET", f"/_local/events{query}")
    assert answer.status == 200
    return [event for event in answer.body["events"] if event["detail"]["account_id"] == account]


def await_events(stack: LocalStack, account: str, done: Callable[[list[dict[str, Any]]], bool]) -> list[Any]:
    deadline = time.monotonic() + PATIENCE_SECONDS
    while not done(seen := events_of(stack, account)) and time.monotonic() < deadline:
        time.sleep(0.2)
    return seen


def facts(events: list[dict[str, Any]]) -> list[tuple[str, str, Any]]:
    return [(e["detail_type"], e["detail"]["model_id"], e["detail"].get("threshold_percent")) for e in events]


def usage(account: str, model: str, quantity: int, request_id: str) -> dict[str, Any]:
    return {"account_id": account, "model_id": model, "quantity": quantity, "request_id": request_id}


def test_a_trials_life_on_the_local_bus(stack: LocalStack) -> None:
    account = "ev-life"
    stack.console("POST", "/v1/account/activation", account)
    stack.console("POST", "/v1/trials/claims", account, {"models": [IMAGE, LANG_90]})
    stack.gateway("/v1/usage", usage(account, IMAGE, 41, "ev-1"))  # 82% of 50 images
    stack.gateway("/v1/usage", usage(account, IMAGE, 7, "ev-2"))  # 96%
    stack.gateway("/v1/usage", usage(account, IMAGE, 7, "ev-2"))  # a replay: nothing new
    stack.console("PUT", "/v1/account/postpaid", account, {"enabled": True})
    billed = stack.gateway("/v1/usage", usage(account, IMAGE, 5, "ev-3"))  # 2 free (exhausted), 3 billed
    assert (billed.body["free"], billed.body["billable"]) == (2, 3)
    stack.call("PUT", "/_local/clock", {"now": "2027-02-25T08:00:00Z"})  # LANG_90 expires 2027-03-01T08:00Z
    assert stack.call("POST", "/_local/expiry-runs").body["expired_grants"] == 0
    stack.call("PUT", "/_local/clock", {"now": "2027-03-02T00:00:00Z"})
    assert stack.call("POST", "/_local/expiry-runs").body["expired_grants"] == 1
    seen = await_events(stack, account, lambda events: "TrialExpired" in {e["detail_type"] for e in events})
    assert facts(seen) == [
        ("TrialClaimed", IMAGE, None), ("TrialClaimed", LANG_90, None), ("TrialBalanceLow", IMAGE, 80),
        ("TrialBalanceLow", IMAGE, 95), ("UsageBillable", IMAGE, None), ("TrialExhausted", IMAGE, None),
        ("TrialExpiringSoon", LANG_90, None), ("TrialExpired", LANG_90, None),
    ]  # fmt: skip
    assert len({event["detail"]["event_id"] for event in seen}) == len(seen)
    assert {event["source"] for event in seen} == {"tokenhub.trial-quota"}
    [bill] = events_of(stack, account, "UsageBillable")
    assert bill["detail"]["charge"] == billed.body["charge"] == {"currency": "CNY", "amount": "0.6"}
    assert (bill["detail"]["request_id"], bill["detail"]["billable"], bill["detail"]["quantity"]) == ("ev-3", 3, 5)
    [expired] = events_of(stack, account, "TrialExpired")
    assert (expired["detail"]["expired_quantity"], expired["detail"]["used"]) == (1_000_000, 0)
    assert expired["time"] == "2027-03-02T00:00:00Z"  # the bus's time is the fact's (the test clock here)
    stack.call("PUT", "/_local/clock", {"now": "2026-12-01T08:00:00Z"})


def test_an_accounts_alert_thresholds_reach_the_events_function_over_http(stack: LocalStack) -> None:
    """R20 through make run: the route, then the local events function judging crossings by them."""
    account = "ev-alerts"
    stack.console("POST", "/v1/account/activation", account)
    stack.console("POST", "/v1/trials/claims", account, {"models": [IMAGE]})
    answer = stack.console("PUT", "/v1/account/alerts", account, {"balance_low_percent": [30]})
    assert (answer.status, answer.body["alerts"]) == (200, {"balance_low_percent": [30], "source": "account"})
    stack.gateway("/v1/usage", usage(account, IMAGE, 16, "al-1"))  # 32%: the account's 30
    stack.gateway("/v1/usage", usage(account, IMAGE, 25, "al-2"))  # 82%: 80 is the deploy's, not its
    stack.gateway("/v1/usage", usage(account, IMAGE, 9, "al-3"))  # 100%: nor 95; exhausted
    seen = await_events(stack, account, lambda events: "TrialExhausted" in {e["detail_type"] for e in events})
    assert facts(seen) == [
        ("TrialClaimed", IMAGE, None),
        ("TrialBalanceLow", IMAGE, 30),
        ("TrialExhausted", IMAGE, None),
    ]


def test_concurrent_draws_publish_each_fact_once(stack: LocalStack) -> None:
    account = "ev-race"
    requests = [usage(account, IMAGE, 2, f"race-{index}") for index in range(32)]  # 64 images on 50
    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(lambda body: stack.gateway("/v1/usage", body), requests))
    assert sum(answer.body["free"] for answer in answers) == 50
    # A last change after the race: the stream is delivered in order, so once its event is on the
    # bus, every event of the race is too (a duplicate would be there to be seen).
    stack.gateway("/v1/authorizations", {"account_id": account, "model_id": LANG_90})
    seen = await_events(stack, account, lambda events: LANG_90 in {e["detail"]["model_id"] for e in events})
    assert sorted(facts(seen)) == [
        ("TrialBalanceLow", IMAGE, 80), ("TrialBalanceLow", IMAGE, 95), ("TrialClaimed", IMAGE, None),
        ("TrialClaimed", LANG_90, None), ("TrialExhausted", IMAGE, None),
    ]  # fmt: skip
