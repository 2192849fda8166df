"""The hold routes through the consume function, with IAM-authorized events."""

from datetime import timedelta
from typing import Any

import pytest

from tests.support import IMAGE, LANG_90
from tests.support.api import console, gateway
from trial_ledger import SwitchableClock

pytestmark = pytest.mark.usefixtures("handlers")


def hold(estimate: Any = 30, request_id: str = "h1", **extra: Any) -> dict[str, Any]:
    return {"account_id": "acct-1", "model_id": IMAGE, "request_id": request_id, "estimate": estimate} | extra


def test_a_hold_its_settle_and_its_end() -> None:
    reply = gateway("POST", "/v1/holds", hold(30, sub_account_id="key-7", ttl_seconds=600))
    assert (reply.status, reply.body) == (200, {
        "request_id": "h1", "account_id": "acct-1", "model_id": IMAGE, "estimate": 30, "held": 30,
        "source": "free", "free_available": 20, "expires_at": "2026-03-01T08:10:00.000Z",
        "auto_claimed": True, "replayed": False})  # fmt: skip
    [grant] = console("GET", "/v1/trials").body["grants"]
    assert (grant["remaining"], grant["held"]) == (50, 30)
    usage = {"account_id": "acct-1", "model_id": IMAGE, "quantity": 12, "request_id": "h1", "sub_account_id": "key-7"}
    settled = gateway("POST", "/v1/usage", usage)
    assert (settled.body["free"], settled.body["unbilled_overage"], settled.body["free_remaining"]) == (12, 0, 38)
    ended = gateway("DELETE", "/v1/holds/h1")
    assert (ended.status, ended.body) == (200, {"request_id": "h1", "status": "settled"})


def test_release_and_not_found(clock: SwitchableClock) -> None:
    gateway("POST", "/v1/holds", hold(30))
    assert gateway("DELETE", "/v1/holds/h1").body == {"request_id": "h1", "status": "released"}
    reply = gateway("DELETE", "/v1/holds/never")
    assert (reply.status, reply.code) == (404, "hold_not_found")
    taken = gateway("POST", "/v1/holds", hold(5, "h2", ttl_seconds=30))
    assert taken.body["expires_at"] == "2026-03-01T08:01:00.000Z"  # 08:00:30 rounded up to the hold period
    clock.advance(timedelta(seconds=59))
    assert gateway("DELETE", "/v1/holds/h2").body["status"] == "released"
    gateway("POST", "/v1/holds", hold(5, "h3", ttl_seconds=30))
    clock.advance(timedelta(seconds=61))
    assert gateway("DELETE", "/v1/holds/h3").body["status"] == "expired"


def test_held_refusal_replay_and_conflict() -> None:
    gateway("POST", "/v1/holds", hold(50))
    reply = gateway("POST", "/v1/holds", hold(1, "h2"))
    assert (reply.status, reply.code) == (402, "free_quota_held")
    assert gateway("POST", "/v1/holds", hold(50)).body["replayed"] is True
    reply = gateway("POST", "/v1/holds", hold(49))
    assert (reply.status, reply.code) == (409, "request_id_conflict")


def test_free_quota_held_says_that_a_retry_will_work() -> None:
    """Issue 27: the detail of free_quota_held read "enable postpaid to continue", like a stop that
    only postpaid ends; its units come back when the other calls end, so it says to retry."""
    gateway("POST", "/v1/holds", hold(50))
    for path, body in (
        ("/v1/holds", hold(1, "h2")),
        ("/v1/authorizations", {"account_id": "acct-1", "model_id": IMAGE}),
    ):
        reply = gateway("POST", path, body)
        assert (reply.status, reply.code) == (402, "free_quota_held")
        assert reply.body["detail"] == (
            f"free quota held for model '{IMAGE}'; retryable: retry when those calls end, as their holds return "
            "what they do not use (or enable postpaid to continue now)"
        )
    gateway("POST", "/v1/usage", {"account_id": "acct-1", "model_id": IMAGE, "quantity": 50, "request_id": "h1"})
    exhausted = gateway("POST", "/v1/authorizations", {"account_id": "acct-1", "model_id": IMAGE})
    assert exhausted.body["detail"] == f"free quota exhausted for model '{IMAGE}'; enable postpaid to continue"


@pytest.mark.parametrize(
    "body",
    [
        hold(0),
        hold(1_000_000_001),
        hold("10"),
        hold(10.0),
        hold(10, ttl_seconds=29),
        hold(10, ttl_seconds=3601),
        hold(10, request_id="bad#id"),
        hold(10, extra="x"),
        {"account_id": "acct-1", "model_id": LANG_90, "request_id": "h"},
    ],
)
def test_bad_hold_bodies_are_422_and_write_nothing(body: dict[str, Any]) -> None:
    reply = gateway("POST", "/v1/holds", body)
    assert (reply.status, reply.code) == (422, "validation_error")
    assert console("GET", "/v1/trials").body["grants"] == []


def test_a_bad_request_id_in_the_path_is_422() -> None:
    reply = gateway("DELETE", "/v1/holds/bad!id")
    assert (reply.status, reply.code) == (422, "validation_error")
    reply = gateway("DELETE", "/v1/holds/" + "x" * 129)
    assert (reply.status, reply.code) == (422, "validation_error")


def test_hold_routes_need_the_gateway_identity() -> None:
    assert gateway("POST", "/v1/holds", hold(), principal=None).code == "unauthenticated"
    assert gateway("DELETE", "/v1/holds/h1", principal=None).code == "unauthenticated"
