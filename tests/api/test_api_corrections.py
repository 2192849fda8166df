"""Reversals (R17) through the consume function and the grant's ledger (R19) through the claim
function, with the events API Gateway sends."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from infra.local.events import OPERATOR_ROLE_ARN, STRANGER_ROLE_ARN
from tests.support import IMAGE, LANG_90, MILLION
from tests.support.api import console, gateway
from trial_ledger import Ledger, SwitchableClock

pytestmark = pytest.mark.usefixtures("handlers")


def usage(quantity: int, request_id: str, model_id: str = LANG_90) -> dict[str, Any]:
    return {"account_id": "acct-1", "model_id": model_id, "quantity": quantity, "request_id": request_id}


def test_a_reversal_answers_once_then_replays() -> None:
    gateway("POST", "/v1/usage", usage(300, "r1"))
    body = {"request_id": "r1", "reason": "the call failed after metering"}
    first = gateway("POST", "/v1/usage/reversals", body)
    assert first.status == 200, first.body
    assert {key: first.body[key] for key in ("request_id", "free_returned", "free_expired", "replayed")} == {
        "request_id": "r1", "free_returned": 300, "free_expired": 0, "replayed": False}  # fmt: skip
    assert first.body["billable_credited"] == {"currency": "CNY", "amount": "0"}
    again = gateway("POST", "/v1/usage/reversals", body)
    assert again.body == first.body | {"replayed": True}
    conflict = gateway("POST", "/v1/usage/reversals", body | {"reason": "another"})
    assert (conflict.status, conflict.code) == (409, "request_id_conflict")
    replayed_usage = gateway("POST", "/v1/usage", usage(300, "r1")).body
    assert (replayed_usage["replayed"], replayed_usage["reversed"]) == (True, True)
    [listed] = console("GET", "/v1/usage").body["items"]
    assert listed["reversed_at"] == first.body["reversed_at"]


def test_reversal_refusals(ledger: Ledger, clock: SwitchableClock) -> None:
    missing = gateway("POST", "/v1/usage/reversals", {"request_id": "never", "reason": "x"})
    assert (missing.status, missing.code) == (404, "usage_not_found")
    gateway("POST", "/v1/usage", usage(1, "old"))
    clock.freeze(clock.now() + timedelta(days=7))
    closed = gateway("POST", "/v1/usage/reversals", {"request_id": "old", "reason": "x"})
    assert (closed.status, closed.code) == (409, "reversal_window_closed")
    old = {"request_id": "old"}
    bad_bodies = [old, old | {"reason": ""}, old | {"reason": "  "}, old | {"reason": "x" * 501},
                  old | {"reason": "x", "extra": 1}]  # fmt: skip
    for bad in bad_bodies:
        reply = gateway("POST", "/v1/usage/reversals", bad)
        assert (reply.status, reply.code) == (422, "validation_error"), bad
    for principal in (OPERATOR_ROLE_ARN, STRANGER_ROLE_ARN):
        reply = gateway("POST", "/v1/usage/reversals", {"request_id": "old", "reason": "x"}, principal=principal)
        assert (reply.status, reply.code) == (403, "forbidden_principal")
    assert ledger.grants("acct-1")[0].used == 1  # nothing refused wrote anything


def test_the_grant_ledger_pages_oldest_first() -> None:
    for n in range(3):
        gateway("POST", "/v1/usage", usage(10 + n, f"r{n}"))
    gateway("POST", "/v1/usage/reversals", {"request_id": "r1", "reason": "metered twice"})
    first = console("GET", f"/v1/trials/{LANG_90}/ledger", query={"limit": "3"})
    assert first.status == 200, first.body
    rest = console("GET", f"/v1/trials/{LANG_90}/ledger", query={"limit": "3", "cursor": first.body["next_cursor"]})
    entries = first.body["entries"] + rest.body["entries"]
    assert rest.body["next_cursor"] is None
    expected = [(1, "claim", None), (2, "usage", "r0"), (3, "usage", "r1"), (4, "usage", "r2"), (5, "reversal", "r1")]
    assert [(entry["sequence"], entry["kind"], entry["request_id"]) for entry in entries] == expected
    assert entries[-1] | {"at": None} == {
        "sequence": 5, "kind": "reversal", "at": None, "request_id": "r1", "action_id": None, "actor": None,
        "reason": "metered twice", "delta": {"used": -11, "remaining": 11, "expired": 0}, "used": 22,
        "remaining": MILLION - 22, "expired": 0}  # fmt: skip


def test_the_grant_ledger_refusals() -> None:
    assert console("GET", f"/v1/trials/{IMAGE}/ledger").code == "grant_not_found"
    assert console("GET", "/v1/trials/nope/ledger").code == "unknown_model"
    gateway("POST", "/v1/usage", usage(1, "r1", IMAGE))
    assert console("GET", f"/v1/trials/{IMAGE}/ledger", account="someone-else").code == "grant_not_found"
    for query in ({"limit": "0"}, {"limit": "101"}, {"cursor": "A" * 1025}):
        reply = console("GET", f"/v1/trials/{IMAGE}/ledger", query=query)
        assert (reply.status, reply.code) == (422, "validation_error"), query
    reply = console("GET", f"/v1/trials/{IMAGE}/ledger", query={"cursor": "junk"})
    assert (reply.status, reply.code) == (400, "invalid_cursor")
    assert console("GET", f"/v1/trials/{IMAGE}/ledger", account=None).status == 401
