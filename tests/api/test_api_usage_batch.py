"""POST /v1/usage/batch through the consume function, with IAM-authorized events."""

import json
from typing import Any

import pytest

from tests.support import IMAGE, LANG_90
from tests.support.api import gateway

pytestmark = pytest.mark.usefixtures("handlers")


def usage(quantity: Any, request_id: str, model_id: str = IMAGE, **extra: Any) -> dict[str, Any]:
    return {"account_id": "acct-1", "model_id": model_id, "quantity": quantity, "request_id": request_id} | extra


def test_each_record_is_answered_in_its_place() -> None:
    records = [
        usage(30, "r1", sub_account_id="key-7"),
        usage(30, "r2"),
        usage(5, "r3", model_id="no-such-model"),
        usage("5", "r4"),
        usage(30, "r1", sub_account_id="key-7"),
        usage(31, "r2"),
        {"request_id": "r7"},
        {"quantity": 3, "request_id": 7},
    ]
    reply = gateway("POST", "/v1/usage/batch", {"records": records})
    assert reply.status == 200
    results = reply.body["results"]
    assert len(results) == 8
    assert results[0] == {
        "request_id": "r1", "account_id": "acct-1", "model_id": IMAGE, "quantity": 30, "free": 30, "billable": 0,
        "unbilled_overage": 0, "charge": {"currency": "CNY", "amount": "0"}, "free_remaining": 20,
        "auto_claimed": True, "replayed": False, "reversed": False}  # fmt: skip
    assert (results[1]["free"], results[1]["unbilled_overage"], results[1]["free_remaining"]) == (20, 10, 0)
    assert results[2] == {"request_id": "r3", "status": 404, "code": "unknown_model",
                          "detail": "model 'no-such-model' is not in the catalog"}  # fmt: skip
    assert (results[3]["request_id"], results[3]["status"], results[3]["code"]) == ("r4", 422, "validation_error")
    assert results[3]["detail"].startswith("quantity: ")
    assert results[4] == results[0] | {"replayed": True}
    assert (results[5]["status"], results[5]["code"]) == (409, "request_id_conflict")
    assert (results[6]["request_id"], results[6]["code"]) == ("r7", "validation_error")
    assert {"account_id", "model_id", "quantity"} <= set(results[6]["detail"].replace(":", " ").split())
    assert (results[7]["request_id"], results[7]["code"]) == (None, "validation_error")


def test_the_same_records_one_by_one_give_the_same_answers() -> None:
    records = [usage(q, f"r{n}", model_id=[IMAGE, LANG_90][n % 2]) for n, q in enumerate([20, 500, 20, 7, 20])]
    batched = gateway("POST", "/v1/usage/batch", {"records": records}).body["results"]
    single = [gateway("POST", "/v1/usage", record | {"account_id": "acct-2", "request_id": "s" + record["request_id"]})
              for record in records]  # fmt: skip
    assert [r.status for r in single] == [200] * 5
    for one, many in zip(single, batched, strict=True):
        assert one.body | {"account_id": "acct-1", "request_id": many["request_id"]} == many


def test_a_record_out_of_range_anywhere_is_refused_in_its_place() -> None:
    """Issue 27: an 11-digit quantity, or any number past the body guard's range even in an unknown
    field, made the whole batch a 422, and its retry failed the same way. Each such record, and
    one that is not an object at all, is now refused in its place; its neighbours are recorded,
    and the retried batch answers them as replays."""
    records = [
        json.dumps(usage(1, "r1")),
        json.dumps(usage(12_345_678_901, "r2")),
        json.dumps(usage(1, "r3")).replace('"quantity": 1', '"quantity": ' + "9" * 5000),
        json.dumps(usage(1, "r4", note={"n": 10**30})),
        "5",
        json.dumps(usage(2, "r6")),
    ]
    body = '{"records": [' + ", ".join(records) + "]}"
    first = gateway("POST", "/v1/usage/batch", body)
    assert first.status == 200, first.body
    results = first.body["results"]
    assert [(r["request_id"], r.get("code")) for r in results] == [
        ("r1", None), ("r2", "validation_error"), ("r3", "validation_error"), ("r4", "validation_error"),
        (None, "validation_error"), ("r6", None)]  # fmt: skip
    assert results[1]["detail"] == "quantity: out of range: 11 digits, and no number here exceeds 1,000,000,000"
    assert results[2]["detail"].startswith("quantity: out of range: 5000 digits")
    assert results[3]["detail"] == "note: Extra inputs are not permitted"
    assert results[4]["detail"].startswith("record: must be a JSON object")
    assert (results[0]["free"], results[5]["free"], results[5]["free_remaining"]) == (1, 2, 47)
    again = gateway("POST", "/v1/usage/batch", body).body["results"]
    assert again == [r | {"replayed": True} if "replayed" in r else r for r in results]


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"records": []},
        {"records": [usage(1, f"r{n}") for n in range(101)]},
        {"records": usage(1, "r1")},
        {"records": [usage(1, "r1")], "extra": True},
        {"records": [usage(1, "r1")], "extra": 10**30},
        [usage(1, "r1")],
        '{"records": [' + json.dumps(usage(1, "r1", note=[])).replace("[]", "[" * 31 + "]" * 31) + "]}",
    ],
    ids=[
        "no-records",
        "empty",
        "over-100",
        "not-a-list",
        "unknown-field",
        "unknown-field-out-of-range",
        "bare-list",
        "nested-past-the-guard",
    ],
)
def test_an_envelope_that_breaks_the_schema_writes_nothing(body: Any) -> None:
    reply = gateway("POST", "/v1/usage/batch", body)
    assert (reply.status, reply.code) == (422, "validation_error")
    again = gateway("POST", "/v1/usage", usage(1, "r1"))
    assert (again.body["replayed"], again.body["auto_claimed"]) == (False, True)


def test_a_batch_of_a_hundred_is_accepted() -> None:
    reply = gateway("POST", "/v1/usage/batch", {"records": [usage(1, f"r{n}", model_id=LANG_90) for n in range(100)]})
    assert reply.status == 200
    assert [r["free_remaining"] for r in reply.body["results"]] == [1_000_000 - n - 1 for n in range(100)]


def test_the_batch_route_is_for_the_gateway_only() -> None:
    reply = gateway("POST", "/v1/usage/batch", {"records": [usage(1, "r1")]}, principal=None)
    assert (reply.status, reply.code) == (401, "unauthenticated")
