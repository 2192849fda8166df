"""End to end over real HTTP against `make run`'s server: the flows of the contract, and real
concurrency (the embedded DynamoDB serves one request at a time, like DynamoDB's per-item
atomicity; the handlers run in parallel containers). Every test ends with the ledger audit."""

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.local_stack import LocalStack, audit_stack, running_stack
from tests.support import IMAGE, LANG_30, LANG_90, MILLION

pytestmark = pytest.mark.e2e
CLIENTS = 32


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with running_stack() as started:
        started.call("PUT", "/_local/clock", {"now": "2026-12-01T00:00:00Z"})
        yield started


@pytest.fixture(autouse=True)
def audited(stack: LocalStack) -> Iterator[None]:
    yield
    report = audit_stack(stack)
    assert report["ok"], report["violations"]


def usage(account: str, model: str, quantity: int, request_id: str) -> dict[str, Any]:
    return {"account_id": account, "model_id": model, "quantity": quantity, "request_id": request_id}


def test_identity_and_errors(stack: LocalStack) -> None:
    assert stack.call("GET", "/v1/account").status == 401
    answer = stack.console("GET", "/v1/account", "e2e-id")
    assert answer.body == {"account_id": "e2e-id", "activated_at": None, "postpaid_enabled": False}
    bad = stack.call("POST", "/v1/usage", b'{"account_id": ')
    assert (bad.status, bad.body["code"], bad.headers["content-type"]) == (400, "malformed_json",
                                                                          "application/problem+json")  # fmt: skip
    assert stack.call("GET", "/v1/nowhere").status == 404
    assert stack.call("POST", "/v1/usage", b"x" * (1024 * 1024 + 1)).status == 413


def test_parallel_usage_spends_exactly_the_quota(stack: LocalStack) -> None:
    requests = [usage("e2e-spend", IMAGE, 3, f"spend-{index}") for index in range(CLIENTS * 2)]
    with ThreadPoolExecutor(CLIENTS) as pool:
        answers = list(pool.map(lambda body: stack.gateway("/v1/usage", body), requests))
    assert {answer.status for answer in answers} == {200}
    assert sum(answer.body["free"] for answer in answers) == 50
    assert sum(answer.body["unbilled_overage"] for answer in answers) == CLIENTS * 2 * 3 - 50
    assert sum(answer.body["auto_claimed"] for answer in answers) == 1
    [grant] = stack.console("GET", "/v1/trials", "e2e-spend").body["grants"]
    assert (grant["used"], grant["remaining"], grant["status"]) == (50, 0, "exhausted")


def test_mixed_concurrent_claims_make_one_grant(stack: LocalStack) -> None:
    stack.console("POST", "/v1/account/activation", "e2e-claims")

    def claim(index: int) -> Any:
        if index % 2:
            return stack.console("POST", "/v1/trials/claims", "e2e-claims", {"models": [LANG_90]}).body
        return stack.gateway("/v1/authorizations", {"account_id": "e2e-claims", "model_id": LANG_90}).body

    with ThreadPoolExecutor(CLIENTS) as pool:
        answers = list(pool.map(claim, range(CLIENTS)))
    created = [a for a in answers if a.get("auto_claimed") is True or
               ("results" in a and a["results"][0]["outcome"] == "claimed")]  # fmt: skip
    assert len(created) == 1
    assert len(stack.console("GET", "/v1/trials", "e2e-claims").body["grants"]) == 1


def test_parallel_replays_charge_once(stack: LocalStack) -> None:
    stack.console("POST", "/v1/account/activation", "e2e-replay")
    stack.console("PUT", "/v1/account/postpaid", "e2e-replay", {"enabled": True})
    body = usage("e2e-replay", IMAGE, 70, "replayed-request")
    with ThreadPoolExecutor(CLIENTS) as pool:
        answers = list(pool.map(lambda _: stack.gateway("/v1/usage", body), range(CLIENTS)))
    assert {answer.status for answer in answers} == {200}
    assert sum(not answer.body["replayed"] for answer in answers) == 1
    assert {(a.body["free"], a.body["billable"], a.body["charge"]["amount"]) for a in answers} == {(50, 20, "4")}
    items = stack.console("GET", "/v1/usage", "e2e-replay").body["items"]
    assert [item["request_id"] for item in items] == ["replayed-request"]


def test_expiry_racing_usage_at_the_boundary(stack: LocalStack) -> None:
    stack.call("PUT", "/_local/clock", {"now": "2026-12-01T00:00:00Z"})
    stack.gateway("/v1/authorizations", {"account_id": "e2e-race", "model_id": LANG_30})  # expires 12-31
    stack.call("PUT", "/_local/clock", {"now": "2026-12-30T23:59:59.990Z"})

    def race(index: int) -> Any:
        if index == CLIENTS // 2:
            stack.call("PUT", "/_local/clock", {"now": "2026-12-31T00:00:00Z"})
            return stack.call("POST", "/_local/expiry-runs").body
        return stack.gateway("/v1/usage", usage("e2e-race", LANG_30, 1000, f"race-{index}")).body

    with ThreadPoolExecutor(CLIENTS) as pool:
        answers = list(pool.map(race, range(CLIENTS)))
    free = sum(a.get("free", 0) for a in answers)
    [grant] = stack.console("GET", "/v1/trials", "e2e-race").body["grants"]
    assert (grant["used"], grant["remaining"], grant["status"]) == (free, 0, "expired")
    assert grant["used"] + grant["expired"] == MILLION
    stack.call("PUT", "/_local/clock", {"now": "2026-12-31T00:00:01Z"})
    late = stack.call("POST", "/_local/expiry-runs").body
    assert late["expired_grants"] == 0  # nothing is expired twice


def test_sustained_contention_on_one_grant_loses_nothing(stack: LocalStack) -> None:
    """Every client draws from one 1,000,000-token grant at once: the exact draws lose races and
    relax; the quota is still spent to the token and every request is answered."""
    stack.gateway("/v1/authorizations", {"account_id": "e2e-hot", "model_id": LANG_90})
    requests = [usage("e2e-hot", LANG_90, 5_000, f"hot-{index}") for index in range(CLIENTS * 8)]
    with ThreadPoolExecutor(CLIENTS) as pool:
        answers = list(pool.map(lambda body: stack.gateway("/v1/usage", body), requests))
    assert {answer.status for answer in answers} == {200}
    assert sum(answer.body["free"] for answer in answers) == MILLION
    assert sum(answer.body["unbilled_overage"] for answer in answers) == CLIENTS * 8 * 5_000 - MILLION
    assert min(answer.body["free_remaining"] for answer in answers) == 0
    [grant] = stack.console("GET", "/v1/trials", "e2e-hot").body["grants"]
    assert (grant["used"], grant["remaining"]) == (MILLION, 0)
