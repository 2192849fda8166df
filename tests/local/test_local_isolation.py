"""Every answer of the local stack belongs to its own request, under concurrency.

32 clients mix every console and gateway route on four accounts at once. Each account has its own
models, its own postpaid setting and its own request ids, so an answer handed to the wrong request
(another request's event, body or identity) shows as a wrong account, model, request id, quantity,
shape or status, even where the ledger's invariant would still hold afterwards."""

from __future__ import annotations

import os
import random
import signal
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support import IMAGE, LANG_30, LANG_90, LANG_90_B, MILLION
from tests.support.local_stack import Answer, LocalStack, audit_stack, running_stack

pytestmark = pytest.mark.e2e
CLIENTS = 32
REQUESTS = 480


@dataclass(frozen=True)
class Account:
    account_id: str
    sub: str
    model: str
    """The one trial this account holds: its gateway calls and claims use it."""
    postpaid: bool
    quota: int


ACCOUNTS = [
    Account("iso-turbo", "key-turbo", LANG_90, postpaid=False, quota=MILLION),
    Account("iso-deepseek", "key-deepseek", LANG_90_B, postpaid=True, quota=MILLION),
    Account("iso-lite", "key-lite", LANG_30, postpaid=False, quota=MILLION),
    Account("iso-image", "key-image", IMAGE, postpaid=True, quota=50),
]


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with running_stack() as started:
        started.call("PUT", "/_local/clock", {"now": "2026-12-01T00:00:00Z"})
        for account in ACCOUNTS:
            started.console("POST", "/v1/account/activation", account.account_id)
            started.console("PUT", "/v1/account/postpaid", account.account_id, {"enabled": account.postpaid})
            claimed = started.console("POST", "/v1/trials/claims", account.account_id, {"models": [account.model]})
            assert claimed.body["results"][0]["outcome"] == "claimed", claimed.body
        yield started


Check = Callable[[Answer], None]


def expect(answer: Answer, status: int, keys: set[str]) -> Any:
    assert answer.status == status, answer.body
    assert set(answer.body) == keys, answer.body
    return answer.body


def get_account(stack: LocalStack, account: Account, index: int) -> None:
    answer = stack.console("GET", "/v1/account", account.account_id, sub=account.sub)
    body = expect(answer, 200, {"account_id", "activated_at", "postpaid_enabled", "alerts"})
    assert (body["account_id"], body["postpaid_enabled"]) == (account.account_id, account.postpaid)
    assert body["activated_at"] is not None


def activate(stack: LocalStack, account: Account, index: int) -> None:
    body = expect(stack.console("POST", "/v1/account/activation", account.account_id),
                  200, {"account_id", "activated_at", "postpaid_enabled", "alerts"})  # fmt: skip
    assert (body["account_id"], body["postpaid_enabled"]) == (account.account_id, account.postpaid)


def set_postpaid(stack: LocalStack, account: Account, index: int) -> None:
    answer = stack.console("PUT", "/v1/account/postpaid", account.account_id, {"enabled": account.postpaid})
    body = expect(answer, 200, {"account_id", "activated_at", "postpaid_enabled", "alerts"})
    assert (body["account_id"], body["postpaid_enabled"]) == (account.account_id, account.postpaid)


def list_models(stack: LocalStack, account: Account, index: int) -> None:
    body = expect(stack.console("GET", "/v1/models", account.account_id), 200, {"models"})
    unclaimable = {model["model_id"] for model in body["models"] if model["claim"]["reason"] == "already_claimed"}
    assert unclaimable == {account.model}


def claim(stack: LocalStack, account: Account, index: int) -> None:
    answer = stack.console("POST", "/v1/trials/claims", account.account_id, {"models": [account.model]}, account.sub)
    [result] = expect(answer, 200, {"results"})["results"]
    assert (result["model_id"], result["outcome"]) == (account.model, "already_claimed")
    assert (result["grant"]["model_id"], result["grant"]["quota"]) == (account.model, account.quota)


def list_grants(stack: LocalStack, account: Account, index: int) -> None:
    grants = expect(stack.console("GET", "/v1/trials", account.account_id), 200, {"grants"})["grants"]
    assert [(grant["model_id"], grant["quota"]) for grant in grants] == [(account.model, account.quota)]


def list_usage(stack: LocalStack, account: Account, index: int) -> None:
    answer = stack.console("GET", f"/v1/usage?limit=5&model_id={account.model}", account.account_id)
    for item in expect(answer, 200, {"items", "next_cursor"})["items"]:
        assert (item["account_id"], item["model_id"]) == (account.account_id, account.model)
        assert item["request_id"].startswith(f"{account.account_id}-")
        assert item["sub_account_id"] == account.sub


def authorize(stack: LocalStack, account: Account, index: int) -> None:
    answer = stack.gateway("/v1/authorizations", {"account_id": account.account_id, "model_id": account.model,
                                                  "sub_account_id": account.sub})  # fmt: skip
    if answer.status == 402:  # the image trial runs out; only postpaid-off accounts may be refused
        assert (account.postpaid, answer.body["code"]) == (False, "free_quota_exhausted"), answer.body
        return
    body = expect(answer, 200, {"allowed", "source", "free_remaining", "auto_claimed"})
    assert (body["allowed"], body["auto_claimed"]) == (True, False)
    assert 0 <= body["free_remaining"] <= account.quota
    assert body["source"] == ("free" if body["free_remaining"] else "postpaid")


def record_usage(stack: LocalStack, account: Account, index: int) -> None:
    request = {"account_id": account.account_id, "model_id": account.model, "quantity": 1 + index % 7,
               "request_id": f"{account.account_id}-{index}", "sub_account_id": account.sub}  # fmt: skip
    body = expect(stack.gateway("/v1/usage", request), 200, {
        "request_id", "account_id", "model_id", "quantity", "free", "billable", "unbilled_overage", "charge",
        "free_remaining", "auto_claimed", "replayed", "reversed"})  # fmt: skip
    for name in ("request_id", "account_id", "model_id", "quantity"):
        assert body[name] == request[name], (name, body)
    assert body["free"] + body["billable"] + body["unbilled_overage"] == request["quantity"]
    assert (body["billable"] if account.postpaid else body["unbilled_overage"]) == request["quantity"] - body["free"]
    assert (body["replayed"], body["auto_claimed"], body["reversed"]) == (False, False, False)


CALLS = [get_account, activate, set_postpaid, list_models, claim, list_grants, list_usage, authorize, record_usage]


def test_every_answer_belongs_to_its_own_request(stack: LocalStack) -> None:
    shuffled = random.Random(10)
    plan = [(ACCOUNTS[index % len(ACCOUNTS)], CALLS[index % len(CALLS)], index) for index in range(REQUESTS)]
    shuffled.shuffle(plan)

    def run(step: tuple[Account, Callable[[LocalStack, Account, int], None], int]) -> str | None:
        account, call, index = step
        try:
            call(stack, account, index)
        except AssertionError as wrong:
            return f"{call.__name__} for {account.account_id}: {wrong}"
        return None

    with ThreadPoolExecutor(CLIENTS) as pool:
        wrong = [failure for failure in pool.map(run, plan) if failure]
    assert not wrong, f"{len(wrong)} of {REQUESTS} answers were not their request's:\n" + "\n".join(wrong[:10])
    report = audit_stack(stack)
    assert report["ok"], report["violations"]


def _children(pid: int) -> set[int]:
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text(encoding="utf-8").rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            found.add(int(stat.parent.name))
    return found


@pytest.mark.parametrize("stop", ["SIGTERM to the server", "Ctrl-C to its process group"])
def test_containers_scale_out_and_stop_with_the_server(stop: str) -> None:
    with running_stack() as stack:
        body = {"account_id": "iso-scale", "model_id": LANG_90}
        with ThreadPoolExecutor(16) as pool:
            answers = list(pool.map(lambda _: stack.gateway("/v1/authorizations", body), range(48)))
        assert {answer.status for answer in answers} == {200}
        containers = stack.call("GET", "/_local/containers").body
        consume = containers["ConsumeFunction"]
        assert 1 < len(consume) <= 8
        assert sum(container["invocations"] for container in consume) == 48
        pids = {container["pid"] for containers_of in containers.values() for container in containers_of}
        assert stack.pid not in pids
        started = _children(stack.pid)
        assert pids <= started
        if stop.startswith("SIGTERM"):
            os.kill(stack.pid, signal.SIGTERM)
        else:
            os.killpg(stack.pid, signal.SIGINT)
        deadline = time.monotonic() + 30
        while any(_running(pid) for pid in {stack.pid, *started}) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not [pid for pid in {stack.pid, *started} if _running(pid)]


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8").rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"
