"""Reversals over HTTP against everything else on one grant at once (R17, R19): usage, holds and
their settles, batches, usage replays, a second reversal of the same usage, and the nightly
expiry run. Every answer is checked against its own request; the grant's ledger is gapless and
chained, the grant's balances are what the answers add up to, and the audit is green."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.support import LANG_30, LANG_90, MILLION
from tests.support.local_stack import LocalStack

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("audited")]

CLIENTS = 32


def usage(account: str, model: str, quantity: int, request_id: str) -> dict[str, Any]:
    return {"account_id": account, "model_id": model, "quantity": quantity, "request_id": request_id}


def whole_ledger(stack: LocalStack, account: str, model: str) -> list[dict[str, Any]]:
    entries, cursor = [], ""
    while True:
        page = stack.console("GET", f"/v1/trials/{model}/ledger?limit=7{cursor}", account)
        assert page.status == 200, page.body
        entries += page.body["entries"]
        if page.body["next_cursor"] is None:
            return entries
        cursor = f"&cursor={page.body['next_cursor']}"


def assert_chained(entries: list[dict[str, Any]], quota: int) -> None:
    before = {"used": 0, "remaining": 0, "expired": 0}
    for number, entry in enumerate(entries, start=1):
        after = {key: entry[key] for key in before}
        assert entry["sequence"] == number
        assert (sum(after.values()), min(after.values()) >= 0) == (quota, True)
        assert entry["delta"] == {key: after[key] - before[key] for key in before}
        before = after


def test_reversals_race_usage_holds_batches_and_replays_on_one_grant(stack: LocalStack) -> None:
    account = "e2e-rev"
    metered = [usage(account, LANG_90, 1_000 + n, f"m-{n}") for n in range(32)]
    for body in metered:
        assert stack.gateway("/v1/usage", body).body["free"] == body["quantity"]

    def job(kind: str, n: int) -> tuple[str, Any, Any]:
        if kind == "reverse":  # m-0..m-15 reversed, each twice at once (one writes, one replays)
            body = {"request_id": f"m-{n % 16}", "reason": "failed after metering"}
            return kind, body, stack.gateway("/v1/usage/reversals", body)
        if kind == "replay":  # the usage again while it may be being reversed
            return kind, metered[n], stack.gateway("/v1/usage", metered[n])
        if kind == "usage":
            body = usage(account, LANG_90, 700, f"u-{n}")
            return kind, body, stack.gateway("/v1/usage", body)
        if kind == "hold":  # a hold and its settle, under its estimate: entirely free (R16)
            hold = {"account_id": account, "model_id": LANG_90, "request_id": f"h-{n}", "estimate": 3_000}
            taken = stack.gateway("/v1/holds", hold)
            assert (taken.status, taken.body["request_id"], taken.body["held"]) == (200, f"h-{n}", 3_000), taken.body
            body = usage(account, LANG_90, 2_500, f"h-{n}")
            return kind, body, stack.gateway("/v1/usage", body)
        records = [usage(account, LANG_90, 300 + k, f"b-{n}-{k}") for k in range(10)]
        return kind, {"records": records}, stack.gateway("/v1/usage/batch", {"records": records})

    jobs = [("reverse", n) for n in range(32)] + [("replay", n) for n in range(16)]
    jobs += [("usage", n) for n in range(16)] + [("hold", n) for n in range(8)] + [("batch", n) for n in range(4)]
    with ThreadPoolExecutor(CLIENTS) as pool:
        answers = list(pool.map(lambda item: job(*item), jobs))

    reversals: dict[str, list[dict[str, Any]]] = {}
    free_kept = sum(body["quantity"] for body in metered[16:])
    for kind, body, answer in answers:
        assert answer.status == 200, (kind, body, answer.body)
        if kind == "reverse":
            assert answer.body["request_id"] == body["request_id"]
            assert (answer.body["free_returned"], answer.body["free_expired"]) == (
                1_000 + int(body["request_id"][2:]), 0)  # fmt: skip
            reversals.setdefault(body["request_id"], []).append(answer.body)
        elif kind == "replay":
            assert (answer.body["request_id"], answer.body["quantity"], answer.body["replayed"]) == (
                body["request_id"], body["quantity"], True)  # fmt: skip
        elif kind == "batch":
            results = answer.body["results"]
            assert [result["request_id"] for result in results] == [record["request_id"] for record in body["records"]]
            assert all(
                result["free"] == record["quantity"] for result, record in zip(results, body["records"], strict=True)
            )
            free_kept += sum(result["free"] for result in results)
        else:
            assert (answer.body["request_id"], answer.body["free"], answer.body["replayed"]) == (
                body["request_id"], body["quantity"], False)  # fmt: skip
            free_kept += answer.body["free"]
    for request_id, pair in reversals.items():  # exactly once: one wrote it, the other replayed it
        assert sorted(answer["replayed"] for answer in pair) == [False, True], request_id
        assert pair[0]["reversed_at"] == pair[1]["reversed_at"]

    [grant] = stack.console("GET", "/v1/trials", account).body["grants"]
    assert (grant["used"], grant["remaining"], grant["held"]) == (free_kept, MILLION - free_kept, 0)
    entries = whole_ledger(stack, account, LANG_90)
    assert_chained(entries, MILLION)
    kinds = [entry["kind"] for entry in entries]
    assert (kinds.count("usage"), kinds.count("reversal")) == (32 + 16 + 8 + 40, 16)
    assert {key: entries[-1][key] for key in ("used", "remaining", "expired")} == {
        "used": grant["used"], "remaining": grant["remaining"], "expired": 0}  # fmt: skip


def test_reversals_race_the_expiry_run(stack: LocalStack) -> None:
    """Past the grant's validity, reversals record their units as expired while the nightly run
    expires the rest: in either order, each unit once."""
    account = "e2e-rev-expiry"
    now = stack.call("GET", "/_local/clock").body["now"]
    assert stack.gateway("/v1/authorizations", {"account_id": account, "model_id": LANG_30}).status == 200
    bodies = [usage(account, LANG_30, 2_000 + n, f"x-{n}") for n in range(24)]
    try:
        stack.call("PUT", "/_local/clock", {"now": "2026-12-30T12:00:00Z"})  # within the reversal window
        for body in bodies:
            assert stack.gateway("/v1/usage", body).status == 200
        stack.call("PUT", "/_local/clock", {"now": "2026-12-31T00:00:01Z"})  # claimed on 2026-12-01: 30 days
        jobs = [("reverse", n) for n in range(16)] + [("expiry", n) for n in range(4)]

        def job(kind: str, n: int) -> tuple[str, Any, Any]:
            if kind == "expiry":
                return kind, None, stack.call("POST", "/_local/expiry-runs")
            body = {"request_id": f"x-{n}", "reason": "failed"}
            return kind, body, stack.gateway("/v1/usage/reversals", body)

        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(lambda item: job(*item), jobs))
        [grant] = stack.console("GET", "/v1/trials", account).body["grants"]
    finally:
        stack.call("PUT", "/_local/clock", {"now": now})
    expired_by_runs = 0
    for kind, body, answer in answers:
        assert answer.status == 200, answer.body
        if kind == "reverse":
            n = int(body["request_id"][2:])
            assert (answer.body["request_id"], answer.body["free_returned"], answer.body["free_expired"]) == (
                body["request_id"], 0, 2_000 + n)  # fmt: skip
        else:
            expired_by_runs += answer.body["expired_quantity"]
    used = sum(body["quantity"] for body in bodies[16:])
    assert (grant["status"], grant["used"], grant["remaining"], grant["expired"]) == (
        "expired", used, 0, MILLION - used)  # fmt: skip
    assert expired_by_runs == MILLION - sum(body["quantity"] for body in bodies)  # the rest, once
    entries = whole_ledger(stack, account, LANG_30)
    assert_chained(entries, MILLION)
    assert [entry["kind"] for entry in entries].count("expiry") == 1
