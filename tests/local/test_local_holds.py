"""Holds over real HTTP against `make run`'s server: 32 concurrent clients taking and settling
holds on one grant, every answer checked against its own request, the held units never above the
remainder, nothing settled at or under its hold billed or overage; then the sweep. Every test ends
with the ledger audit (R11 and the hold invariants of R16)."""

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pytest

from infra.testing.dynamo_sizes import item_size
from tests.support import IMAGE, LANG_90, MILLION
from tests.support.local_stack import LocalStack

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("audited")]
CLIENTS = 32
ROUNDS = 4


def hold(account: str, model: str, request_id: str, estimate: int, **more: Any) -> dict[str, Any]:
    return {"account_id": account, "model_id": model, "request_id": request_id, "estimate": estimate} | more


def test_concurrent_holds_never_reserve_more_than_is_left(stack: LocalStack) -> None:
    """50 images, 32 clients asking for 3 each at once: 48 held, the rest refused or partial."""
    bodies = [hold("e2e-holds-a", IMAGE, f"a-{index}", 3 if index % 8 else 4) for index in range(CLIENTS)]
    with ThreadPoolExecutor(CLIENTS) as pool:
        answers = list(pool.map(lambda body: stack.gateway("/v1/holds", body), bodies))
    held = 0
    for body, answer in zip(bodies, answers, strict=True):
        if answer.status == 402:
            assert answer.body["code"] == "free_quota_held"
            continue
        assert answer.status == 200, answer.body
        assert {k: answer.body[k] for k in ("request_id", "account_id", "model_id", "estimate")} == {
            k: body[k] for k in ("request_id", "account_id", "model_id", "estimate")}  # fmt: skip
        assert 1 <= answer.body["held"] <= body["estimate"]
        held += answer.body["held"]
    assert held == 50  # all of it, and not one unit more
    [grant] = stack.console("GET", "/v1/trials", "e2e-holds-a").body["grants"]
    assert (grant["held"], grant["remaining"], grant["used"]) == (50, 50, 0)


def test_32_clients_take_and_settle_holds_on_one_grant(stack: LocalStack) -> None:
    account = "e2e-holds-b"
    stack.gateway("/v1/authorizations", {"account_id": account, "model_id": LANG_90})
    samples: list[dict[str, Any]] = []
    stop = threading.Event()

    def watch() -> None:  # the grant as the console sees it, again and again while clients run
        while not stop.is_set():
            samples.append(stack.console("GET", "/v1/trials", account).body["grants"][0])

    def client(index: int) -> list[tuple[dict[str, Any], Any, dict[str, Any] | None, Any]]:
        seen: list[tuple[dict[str, Any], Any, dict[str, Any] | None, Any]] = []
        for round_ in range(ROUNDS):
            rid = f"b-{index}-{round_}"
            body = hold(account, LANG_90, rid, 5_000)
            taken = stack.gateway("/v1/holds", body)
            if taken.status != 200:
                seen.append((body, taken, None, None))
                continue
            quantity = (2_000, 5_000, 6_000)[(index + round_) % 3]  # under, at and over its hold
            usage = {"account_id": account, "model_id": LANG_90, "quantity": quantity, "request_id": rid}
            seen.append((body, taken, usage, stack.gateway_retrying("/v1/usage", usage)))  # 128 settles, one grant
        return seen

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        with ThreadPoolExecutor(CLIENTS) as pool:
            results = [entry for seen in pool.map(client, range(CLIENTS)) for entry in seen]
    finally:
        stop.set()
        watcher.join()
    free = 0
    for body, taken, usage, settled in results:
        assert taken.status == 200, taken.body  # 128 x 6,000 never reaches the million
        assert (taken.body["request_id"], taken.body["estimate"], taken.body["held"]) == (
            body["request_id"], 5_000, 5_000)  # fmt: skip
        assert usage is not None
        assert settled.status == 200, settled.body
        assert (settled.body["request_id"], settled.body["quantity"]) == (usage["request_id"], usage["quantity"])
        if usage["quantity"] <= taken.body["held"]:
            assert (settled.body["free"], settled.body["billable"], settled.body["unbilled_overage"]) == (
                usage["quantity"], 0, 0)  # fmt: skip
        free += settled.body["free"]
    assert samples
    assert all(0 <= sample["held"] <= sample["remaining"] for sample in samples)
    [grant] = stack.console("GET", "/v1/trials", account).body["grants"]
    assert (grant["held"], grant["used"], grant["remaining"]) == (0, free, MILLION - free)


def test_holds_time_out_and_the_sweep_closes_them(stack: LocalStack) -> None:
    account = "e2e-holds-c"
    for index in range(10):
        answer = stack.gateway("/v1/holds", hold(account, LANG_90, f"c-{index}", 1_000, ttl_seconds=60))
        assert answer.body["held"] == 1_000
    stack.call("PUT", "/_local/clock", {"now": "2026-12-01T00:01:00Z"})
    [grant] = stack.console("GET", "/v1/trials", account).body["grants"]
    assert grant["held"] == 0  # timed out at once, before any sweep
    swept = stack.call("POST", "/_local/hold-sweeps")
    assert (swept.status, swept.body["closed_holds"], swept.body["complete"]) == (200, 10, True)
    assert stack.call("POST", "/_local/hold-sweeps").body["closed_holds"] == 0
    assert stack.call("DELETE", "/v1/holds/c-0").body == {"request_id": "c-0", "status": "expired"}


LIVE_HOLDS = 2_000
LONG = 128


def _grant_bytes(client: Any, stack: LocalStack, account: str) -> int:
    """The grant item as the embedded DynamoDB stores it, sized by DynamoDB's rules."""
    key = {"PK": {"S": f"GRANT#{account}#{LANG_90}"}, "SK": {"S": "GRANT"}}
    return item_size(client.get_item(TableName=stack.table, Key=key, ConsistentRead=True)["Item"])


def test_2000_live_holds_with_the_longest_ids_on_one_grant(stack: LocalStack) -> None:
    """R13a over HTTP: 32 clients take 2,000 live holds of 1 unit on one grant (128-character
    account and request ids), then settle half and release half with plain usage mixed in; every
    answer is its own request's, and the grant item stays within 2 KB at every step."""
    account = "e2e-holds-d-".ljust(LONG, "x")
    stack.gateway("/v1/authorizations", {"account_id": account, "model_id": LANG_90})
    sizes: list[int] = []
    stop = threading.Event()

    client = boto3.client("dynamodb", endpoint_url=stack.dynamodb_url, region_name="us-east-1",
                          aws_access_key_id="local", aws_secret_access_key="local")  # fmt: skip

    def watch() -> None:  # the grant item read back every second while the clients run
        while not stop.wait(1.0):
            sizes.append(_grant_bytes(client, stack, account))

    def ids(client: int) -> list[str]:
        return [f"d-{client:02d}-{n:04d}-".ljust(LONG, "r") for n in range(client, LIVE_HOLDS, CLIENTS)]

    def take(client: int) -> list[str]:
        for n, rid in enumerate(ids(client)):
            answer = stack.gateway("/v1/holds", hold(account, LANG_90, rid, 1, ttl_seconds=300 + 53 * n))
            assert answer.status == 200, answer.body
            assert (answer.body["request_id"], answer.body["account_id"], answer.body["held"]) == (rid, account, 1)
        return ids(client)

    def end(client: int) -> int:
        free = 0
        for n, rid in enumerate(ids(client)):
            if n % 2:
                answer = stack.call("DELETE", f"/v1/holds/{rid}")
                assert answer.body == {"request_id": rid, "status": "released"}
            else:
                usage = {"account_id": account, "model_id": LANG_90, "quantity": 1, "request_id": rid}
                answer = stack.gateway_retrying("/v1/usage", usage)  # 1,000 settles of one grant at once
                assert (answer.body["request_id"], answer.body["free"], answer.body["billable"]) == (rid, 1, 0)
                free += 1
            if n % 5 == 0:
                plain = {"account_id": account, "model_id": LANG_90, "quantity": 7, "request_id": f"p-{rid[:100]}"}
                answer = stack.gateway_retrying("/v1/usage", plain)  # draws on the same grant as the settles
                assert (answer.body["request_id"], answer.body["free"]) == (plain["request_id"], 7)
                free += 7
        return free

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        with ThreadPoolExecutor(CLIENTS) as pool:
            taken = [rid for rids in pool.map(take, range(CLIENTS)) for rid in rids]
            assert len(set(taken)) == LIVE_HOLDS
            [grant] = stack.console("GET", "/v1/trials", account).body["grants"]
            assert grant["held"] == LIVE_HOLDS
            free = sum(pool.map(end, range(CLIENTS)))
    finally:
        stop.set()
        watcher.join()
    sizes.append(_grant_bytes(client, stack, account))
    assert len(sizes) > 10
    assert max(sizes) <= 2_048, max(sizes)
    [grant] = stack.console("GET", "/v1/trials", account).body["grants"]
    assert (grant["held"], grant["used"]) == (0, free)
