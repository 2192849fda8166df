"""Gateway routes through the consume function, with IAM-authorized events."""

import json
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from tests.support import IMAGE, LANG_90, MILLION, NO_TRIAL
from tests.support.api import console, gateway
from trial_ledger import Ledger, SwitchableClock

pytestmark = pytest.mark.usefixtures("handlers")


def usage(quantity: Any = 10, request_id: str = "r1", **extra: Any) -> dict[str, Any]:
    return {"account_id": "acct-1", "model_id": LANG_90, "quantity": quantity, "request_id": request_id} | extra


def test_authorization_claims_on_first_use() -> None:
    reply = gateway("POST", "/v1/authorizations", {"account_id": "acct-1", "model_id": LANG_90})
    assert (reply.status, reply.body) == (
        200,
        {"allowed": True, "source": "free", "free_remaining": MILLION, "auto_claimed": True},
    )
    [grant] = console("GET", "/v1/trials").body["grants"]
    assert grant["claim_method"] == "auto"


def test_refusals_carry_the_stop_reason() -> None:
    reply = gateway("POST", "/v1/authorizations", {"account_id": "acct-1", "model_id": NO_TRIAL})
    assert (reply.status, reply.code) == (402, "no_free_quota")
    assert reply.headers["content-type"] == "application/problem+json"
    gateway("POST", "/v1/usage", usage(50, model_id=IMAGE))
    reply = gateway("POST", "/v1/authorizations", {"account_id": "acct-1", "model_id": IMAGE})
    assert (reply.status, reply.code) == (402, "free_quota_exhausted")


def test_postpaid_resumes_service() -> None:
    gateway("POST", "/v1/usage", usage(50, model_id=IMAGE))
    console("POST", "/v1/account/activation")
    console("PUT", "/v1/account/postpaid", body={"enabled": True})
    reply = gateway("POST", "/v1/authorizations", {"account_id": "acct-1", "model_id": IMAGE})
    assert (reply.status, reply.body["source"]) == (200, "postpaid")


def test_unknown_model_is_404() -> None:
    reply = gateway("POST", "/v1/authorizations", {"account_id": "acct-1", "model_id": "nope"})
    assert (reply.status, reply.code) == (404, "unknown_model")
    reply = gateway("POST", "/v1/usage", usage(model_id="nope"))
    assert (reply.status, reply.code) == (404, "unknown_model")


def test_usage_response_and_replay() -> None:
    first = gateway("POST", "/v1/usage", usage(1234, sub_account_id="key-7"))
    assert first.status == 200
    assert first.body == {
        "request_id": "r1",
        "account_id": "acct-1",
        "model_id": LANG_90,
        "quantity": 1234,
        "free": 1234,
        "billable": 0,
        "unbilled_overage": 0,
        "charge": {"currency": "CNY", "amount": "0"},
        "free_remaining": MILLION - 1234,
        "auto_claimed": True,
        "replayed": False,
        "reversed": False,
    }
    again = gateway("POST", "/v1/usage", usage(1234, sub_account_id="key-7"))
    assert again.body == first.body | {"replayed": True}
    conflict = gateway("POST", "/v1/usage", usage(1235, sub_account_id="key-7"))
    assert (conflict.status, conflict.code) == (409, "request_id_conflict")


def test_billable_charge_is_an_exact_string(handlers: Ledger) -> None:
    handlers.activate("acct-1")
    handlers.set_postpaid("acct-1", True)
    reply = gateway("POST", "/v1/usage", usage(999_999_999, model_id=NO_TRIAL))
    assert reply.body["charge"] == {"currency": "CNY", "amount": "15999.999984"}
    assert Decimal(reply.body["charge"]["amount"]) == 999_999_999 * Decimal("0.000016")


@pytest.mark.parametrize(
    "body",
    [
        usage("10"),
        usage(10.0),
        usage(10.5),
        usage(0),
        usage(-1),
        usage(1_000_000_001),
        usage(True),
        usage(None),
        usage(request_id=""),
        usage(request_id="x" * 129),
        usage(request_id="bad\u0000id"),
        usage(unknown_field=1),
        {"model_id": LANG_90, "quantity": 10, "request_id": "r1"},
        [],
    ],
)
def test_usage_body_is_strict_and_writes_nothing(body: Any) -> None:
    reply = gateway("POST", "/v1/usage", body)
    assert (reply.status, reply.code) == (422, "validation_error")
    assert reply.body["errors"]
    assert console("GET", "/v1/trials").body == {"grants": []}


def test_validation_errors_name_the_fields() -> None:
    reply = gateway("POST", "/v1/usage", usage("10", request_id="bad#id"))
    assert {error["field"] for error in reply.body["errors"]} == {"quantity", "request_id"}


def test_malformed_json_is_400() -> None:
    reply = gateway("POST", "/v1/usage", '{"account_id": ')
    assert (reply.status, reply.code) == (400, "malformed_json")


def test_gateway_routes_need_an_iam_identity() -> None:
    reply = gateway("POST", "/v1/usage", usage(), principal=None)
    assert (reply.status, reply.code) == (401, "unauthenticated")
    assert console("GET", "/v1/trials").body == {"grants": []}


def test_throttling_becomes_503_with_retry_after(monkeypatch: pytest.MonkeyPatch, handlers: Ledger) -> None:
    from trial_ledger.dynamo.errors import StoreUnavailable
    from trial_ledger.dynamo.store import LedgerStore

    def throttled(*args: object, **kwargs: object) -> None:
        raise StoreUnavailable("ProvisionedThroughputExceededException after 4 attempts")

    monkeypatch.setattr(LedgerStore, "read_account", throttled)
    reply = gateway("POST", "/v1/authorizations", {"account_id": "acct-1", "model_id": LANG_90})
    assert (reply.status, reply.code) == (503, "temporarily_unavailable")
    assert int(reply.headers["retry-after"]) >= 1
    assert "ProvisionedThroughput" not in json.dumps(reply.body)


def test_ledger_log_lines_carry_the_correlation_id(monkeypatch: pytest.MonkeyPatch, handlers: Ledger) -> None:
    """The ledger logs through the handler's structured Powertools logger, not a plain one."""
    import io

    import consume_handler
    from infra.local.events import GATEWAY_ROLE_ARN, LocalLambdaContext, http_event
    from trial_ledger.dynamo.errors import StoreUnavailable
    from trial_ledger.dynamo.store import LedgerStore

    def throttled(*args: object, **kwargs: object) -> None:
        raise StoreUnavailable("ThrottlingException after 4 attempts")

    monkeypatch.setattr(LedgerStore, "read_account", throttled)
    stream = io.StringIO()
    monkeypatch.setattr(consume_handler.logger.registered_handler, "stream", stream)
    body = json.dumps({"account_id": "acct-1", "model_id": LANG_90})
    event = http_event("POST", "/v1/authorizations", body=body, iam_principal=GATEWAY_ROLE_ARN)
    assert consume_handler.lambda_handler(event, LocalLambdaContext("consume"))["statusCode"] == 503
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    [line] = [line for line in lines if line["message"] == "dynamodb unavailable after retries"]
    assert line["correlation_id"] == event["requestContext"]["requestId"]
    assert (line["service"], line["level"]) == ("trial-quota", "WARNING")
    assert line["error"] == "ThrottlingException after 4 attempts"


def test_unexpected_errors_leak_nothing(monkeypatch: pytest.MonkeyPatch, handlers: Ledger) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("secret internal detail in /opt/python/trial_ledger/store.py")

    monkeypatch.setattr(type(handlers), "authorize", broken)
    reply = gateway("POST", "/v1/authorizations", {"account_id": "acct-1", "model_id": LANG_90})
    assert (reply.status, reply.code) == (500, "internal_error")
    text = json.dumps(reply.body)
    assert "secret" not in text
    assert "Traceback" not in text
    assert "store.py" not in text


def test_non_json_bodies_are_refused() -> None:
    import consume_handler
    from infra.local.events import GATEWAY_ROLE_ARN, LocalLambdaContext, http_event

    event = http_event("POST", "/v1/usage", body="account_id acct-1", iam_principal=GATEWAY_ROLE_ARN,
                       headers={"Content-Type": "text/plain"})  # fmt: skip
    reply = consume_handler.lambda_handler(event, LocalLambdaContext("consume"))
    assert reply["statusCode"] == 415
    assert json.loads(reply["body"])["code"] == "unsupported_media_type"


def test_expired_grant_is_402_free_quota_expired(clock: SwitchableClock) -> None:
    gateway("POST", "/v1/authorizations", {"account_id": "acct-1", "model_id": LANG_90})
    clock.advance(timedelta(days=90))
    reply = gateway("POST", "/v1/authorizations", {"account_id": "acct-1", "model_id": LANG_90})
    assert (reply.status, reply.code) == (402, "free_quota_expired")
    recorded = gateway("POST", "/v1/usage", usage(5))  # usage already happened: recorded, never free
    assert (recorded.status, recorded.body["free"], recorded.body["unbilled_overage"]) == (200, 0, 5)


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json",
        "APPLICATION/JSON",
        "Application/Json; charset=UTF-8",
        "application/json;charset=utf-8",
        "application/problem+json",
        "application/vnd.api+json",
        "Application/Merge-Patch+JSON",
    ],
)
def test_json_is_accepted_in_any_case_and_with_a_json_suffix(content_type: str) -> None:
    reply = gateway("POST", "/v1/usage", usage(), headers={"Content-Type": content_type})
    assert (reply.status, reply.body["free"]) == (200, 10)


def test_an_integer_too_long_to_convert_is_out_of_range_for_its_field() -> None:
    body = json.dumps(usage()).replace('"quantity": 10', '"quantity": ' + "9" * 5000)
    reply = gateway("POST", "/v1/usage", body)
    assert (reply.status, reply.code) == (422, "validation_error")
    [error] = reply.body["errors"]
    assert error["field"] == "quantity"
    assert "1,000,000,000" in error["message"]


def test_nesting_is_limited_to_32_levels() -> None:
    """The contract's bodies are 2 levels deep; 32 are accepted by the guard (then refused by the
    schema), 33 are refused before anything parses the body further."""
    body = '{"account_id": "acct-1", "model_id": "hunyuan-turbo", "note": ' + "[" * 31 + "]" * 31 + "}"
    at_limit = gateway("POST", "/v1/authorizations", body)
    assert [error["field"] for error in at_limit.body["errors"]] == ["note"]
    too_deep = gateway("POST", "/v1/authorizations", body.replace("[", "[[", 1).replace("]", "]]", 1))
    assert (too_deep.status, too_deep.code) == (422, "validation_error")
    [error] = too_deep.body["errors"]
    assert error["field"] == "note" + "[0]" * 31
    assert "32 levels" in error["message"]


def test_an_exception_outside_the_routes_is_a_problem_500(monkeypatch: pytest.MonkeyPatch) -> None:
    import consume_handler

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("secret internal detail in /opt/python/aws_lambda_powertools/event_handler")

    monkeypatch.setattr(consume_handler.app, "resolve", broken)
    reply = gateway("POST", "/v1/authorizations", {"account_id": "acct-1", "model_id": LANG_90})
    assert (reply.status, reply.code) == (500, "internal_error")
    assert reply.headers["content-type"] == "application/problem+json"
    assert "secret" not in json.dumps(reply.body)
