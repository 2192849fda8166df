"""End to end over real HTTP against `make run`'s server: the flows of the contract, and real
concurrency (the embedded DynamoDB serves one request at a time, like DynamoDB's per-item
atomicity; the handlers run in parallel containers). Every test ends with the ledger audit."""

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.support import IMAGE, LANG_30, LANG_90, MILLION
from tests.support.local_stack import LocalStack

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("audited")]
CLIENTS = 32


def usage(account: str, model: str, quantity: int, request_id: str) -> dict[str, Any]:
    return {"account_id": account, "model_id": model, "quantity": quantity, "request_id": request_id}


def test_identity_and_errors(stack: LocalStack) -> None:
    assert stack.call("GET", "/v1/account").status == 401
    answer = stack.console("GET", "/v1/account", "e2e-id")
    assert answer.body == {"account_id": "e2e-id", "activated_at": None, "postpaid_enabled": False,
                           "alerts": {"balance_low_percent": [80, 95], "source": "default"}}  # fmt: skip
    bad = stack.call("POST", "/v1/usage", b'{"account_id": ')
    assert (bad.status, bad.body["code"], bad.headers["content-type"]) == (400, "malformed_json",
                                                                          "application/problem+json")  # fmt: skip
    assert stack.call("GET", "/v1/nowhere").status == 404
    assert stack.call("POST", "/v1/usage", b"x" * (1024 * 1024 + 1)).status == 413


def test_x_principal_stands_in_for_the_signature(stack: LocalStack) -> None:
    """R21 locally: gateway (the default) is served; operator, or any other value, is 403
    forbidden_principal on the gateway routes, and nothing is written."""
    body = {"account_id": "e2e-principal", "model_id": LANG_90, "quantity": 5, "request_id": "p-1"}
    for principal in ("operator", "admin", "Gateway2"):
        answer = stack.call("POST", "/v1/usage", body, headers={"X-Principal": principal})
        assert (answer.status, answer.body["code"]) == (403, "forbidden_principal"), principal
    assert stack.console("GET", "/v1/trials", "e2e-principal").body["grants"] == []
    assert stack.call("POST", "/v1/usage", body, headers={"X-Principal": "gateway"}).body["free"] == 5
    assert stack.call("POST", "/v1/usage", body).body["replayed"] is True


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
    """Every client draws from one 1,000,000-token grant at once: each free draw is an entry of the
    grant's ledger (R19), so they are serialized; the losers retry, and a request that waited its
    whole budget is a 503 the gateway sends again (same request_id). The quota is still spent to
    the token and every request is answered as its own."""
    stack.gateway("/v1/authorizations", {"account_id": "e2e-hot", "model_id": LANG_90})
    requests = [usage("e2e-hot", LANG_90, 5_000, f"hot-{index}") for index in range(CLIENTS * 8)]
    with ThreadPoolExecutor(CLIENTS) as pool:
        answers = list(pool.map(lambda body: stack.gateway_retrying("/v1/usage", body), requests))
    assert [answer.body["request_id"] for answer in answers] == [body["request_id"] for body in requests]
    assert {answer.status for answer in answers} == {200}
    assert sum(answer.body["free"] for answer in answers) == MILLION
    assert sum(answer.body["unbilled_overage"] for answer in answers) == CLIENTS * 8 * 5_000 - MILLION
    assert min(answer.body["free_remaining"] for answer in answers) == 0
    [grant] = stack.console("GET", "/v1/trials", "e2e-hot").body["grants"]
    assert (grant["used"], grant["remaining"]) == (MILLION, 0)


def check_batch_answer(answer: Any, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each result is its own record's: same request_id, account, model and quantity, split whole."""
    assert answer.status == 200, answer.body
    results: list[dict[str, Any]] = answer.body["results"]
    assert len(results) == len(records)
    for record, result in zip(records, results, strict=True):
        mine = {key: result[key] for key in ("request_id", "account_id", "model_id", "quantity")}
        assert mine == {key: record[key] for key in mine}
        assert result["free"] + result["billable"] + result["unbilled_overage"] == record["quantity"]
    return results


def test_concurrent_batches_on_one_grant_spend_exactly_the_quota(stack: LocalStack) -> None:
    """Batches and single usages on one grant at once: every record answered as its own, the
    quota spent to the token, and within a batch the remainder never grows."""
    stack.gateway("/v1/authorizations", {"account_id": "e2e-batch", "model_id": LANG_90})
    batches = [[usage("e2e-batch", LANG_90, 4_000 + index, f"batch-{index}-{n}") for n in range(20)]
               for index in range(CLIENTS // 2)]  # fmt: skip
    singles = [usage("e2e-batch", LANG_90, 5_000, f"single-{index}") for index in range(CLIENTS * 2)]

    def send(job: Any) -> Any:
        if isinstance(job, list):
            return check_batch_answer(stack.gateway("/v1/usage/batch", {"records": job}), job)
        answer = stack.gateway("/v1/usage", job)
        assert (answer.status, answer.body["request_id"], answer.body["quantity"]) == (200, job["request_id"], 5_000)
        return [answer.body]

    jobs: list[Any] = [job for pair in zip(batches, singles[: len(batches)], strict=True) for job in pair]
    jobs += singles[len(batches) :]
    with ThreadPoolExecutor(CLIENTS) as pool:
        answered = list(pool.map(send, jobs))
    for job, results in zip(jobs, answered, strict=True):
        if isinstance(job, list):
            remaining = [result["free_remaining"] for result in results]
            assert remaining == sorted(remaining, reverse=True)
    results = [result for batch in answered for result in batch]
    assert not any(result["replayed"] for result in results)
    assert sum(result["free"] for result in results) == MILLION
    [grant] = stack.console("GET", "/v1/trials", "e2e-batch").body["grants"]
    assert (grant["used"], grant["remaining"]) == (MILLION, 0)


def test_a_batch_retried_by_many_gateways_records_each_record_once(stack: LocalStack) -> None:
    """The same batch sent by every client at once (a retried gateway batch), beside each
    client's own batch of another account: one recording per request_id, the rest replays with
    the same numbers; each client's own batch answers its own account."""
    shared = [usage("e2e-shared", IMAGE, 7, f"shared-{n}") for n in range(10)]
    own = {index: [usage(f"e2e-own-{index % 4}", IMAGE, 1, f"own-{index}-{n}") for n in range(3)]
           for index in range(CLIENTS)}  # fmt: skip

    def send(index: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        first = check_batch_answer(stack.gateway("/v1/usage/batch", {"records": shared}), shared)
        second = check_batch_answer(stack.gateway("/v1/usage/batch", {"records": own[index]}), own[index])
        return first, second

    with ThreadPoolExecutor(CLIENTS) as pool:
        answered = list(pool.map(send, range(CLIENTS)))
    for position in range(len(shared)):
        answers = [first[position] for first, _ in answered]
        assert sum(not answer["replayed"] for answer in answers) == 1
        assert len({(a["free"], a["unbilled_overage"], a["free_remaining"]) for a in answers}) == 1
    assert sum(first[n]["free"] for n in range(len(shared)) for first in [answered[0][0]]) == 50
    own_free = sum(result["free"] for _, second in answered for result in second)
    assert own_free == CLIENTS * 3  # 24 records per account, all free
    items = stack.console("GET", "/v1/usage", "e2e-shared").body["items"]
    assert sorted(item["request_id"] for item in items) == sorted(record["request_id"] for record in shared)
