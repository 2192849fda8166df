"""The warm floor (issue 25, part 3): the gateway's five requests written the least way an API
function of this stack can be: Powertools' Logger, Metrics and HTTP resolver with Pydantic
validation, and bare boto3. It sends the same DynamoDB requests as the service (same operations,
as many of them, items of the same keys and attributes, conditioned on what the container last
saw) and nothing else: no replay detection, no refusals, no retries, no problem documents.
`make bench ONLY=warm` times it beside consume_handler (bench/warm.py)."""

from __future__ import annotations

import hashlib
import os
import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import boto3
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Id = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$", min_length=1, max_length=128)]
Quantity = Annotated[int, Field(ge=1, le=1_000_000_000)]
TABLE = os.environ["TABLE_NAME"]
MAX_TRANSACTION_ITEMS = 100


class Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")


class Authorization(Strict):
    account_id: Id
    model_id: Id


class Usage(Authorization):
    quantity: Quantity
    request_id: Id


class Hold(Authorization):
    estimate: Quantity
    request_id: Id


class Batch(Strict):
    records: Annotated[list[Usage], Field(min_length=1, max_length=100)]


logger = Logger()
metrics = Metrics()
app = APIGatewayHttpResolver(enable_validation=True)
client = boto3.client("dynamodb")
grants: dict[tuple[str, str], dict[str, Any]] = {}
"""What this container last saw of each grant: the next write is conditioned on it."""
holds: dict[str, dict[str, Any]] = {}


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _n(value: int) -> dict[str, str]:
    return {"N": str(value)}


def _s(value: str) -> dict[str, str]:
    return {"S": value}


def _grant_key(account_id: str, model_id: str) -> dict[str, Any]:
    return {"PK": _s(f"GRANT#{account_id}#{model_id}"), "SK": _s("GRANT")}  # a grant's own key, as the ledger's


@app.post("/v1/authorizations")
def authorize(ask: Annotated[Authorization, Body()]) -> dict[str, Any]:
    profile = {"PK": _s(f"ACCOUNT#{ask.account_id}"), "SK": _s("PROFILE")}
    read = client.batch_get_item(
        RequestItems={TABLE: {"Keys": [profile, _grant_key(ask.account_id, ask.model_id)], "ConsistentRead": True}}
    )
    grant = next(item for item in read["Responses"][TABLE] if item["SK"]["S"] == "GRANT")
    seen = {name: int(grant[name]["N"]) for name in ("remaining", "used", "entries", "held_total", "unreserved")}
    grants[(ask.account_id, ask.model_id)] = seen | {"expires_at": grant["expires_at"]["S"]}
    return {"allowed": seen["remaining"] > 0, "source": "free", "free_remaining": seen["remaining"],
            "auto_claimed": False}  # fmt: skip


def _draw(grant: dict[str, Any], quantity: int, released: int = 0) -> dict[str, Any]:
    """The grant after a draw of ``quantity`` (and the end of a hold of ``released``)."""
    free = min(quantity, grant["remaining"])
    after = grant | {"used": grant["used"] + free, "entries": grant["entries"] + 1,
                     "remaining": grant["remaining"] - free, "held_total": grant["held_total"] - released}  # fmt: skip
    return after | {"unreserved": after["remaining"] - after["held_total"]}


def _grant_update(before: dict[str, Any], after: dict[str, Any], now: str) -> dict[str, Any]:
    """The grant's update from ``before`` (its condition: what this container saw) to ``after``."""
    return {
        "TableName": TABLE,
        "Key": _grant_key(before["account_id"], before["model_id"]),
        "ConditionExpression": "expires_at > :now AND entries = :e0 AND remaining = :r0 AND held_total = :h0",
        "UpdateExpression": "SET used = used + :q, entries = :e, remaining = :r, held_total = :h, unreserved = :u",
        "ExpressionAttributeValues": {
            ":now": _s(now), ":e0": _n(before["entries"]), ":r0": _n(before["remaining"]),
            ":h0": _n(before["held_total"]), ":q": _n(after["used"] - before["used"]), ":e": _n(after["entries"]),
            ":r": _n(after["remaining"]), ":h": _n(after["held_total"]), ":u": _n(after["unreserved"]),
        },
    }  # fmt: skip


def _usage_item(usage: Usage, free: int, after: dict[str, Any], now: str) -> dict[str, Any]:
    fingerprint = hashlib.sha256(usage.model_dump_json().encode()).hexdigest()
    return {
        "PK": _s(f"USAGE#{usage.request_id}"), "SK": _s("USAGE"), "item_type": _s("usage"),
        "account_id": _s(usage.account_id), "model_id": _s(usage.model_id), "request_id": _s(usage.request_id),
        "quantity": _n(usage.quantity), "free": _n(free), "billable": _n(usage.quantity - free),
        "unbilled_overage": _n(0), "currency": _s("CNY"), "unit_price": _s("0.000002"), "charge": _s("0"),
        "free_remaining": _n(after["remaining"]), "auto_claimed": {"BOOL": False}, "recorded_at": _s(now),
        "fingerprint": _s(fingerprint), "write_id": _s(uuid.uuid4().hex), "usage_account": _s(usage.account_id),
        "usage_order": _s(f"{now}#{usage.request_id}"), "ledger_grant": _s(f"{usage.account_id}#{usage.model_id}"),
        "ledger_seq": _n(after["entries"]), "balance_used": _n(after["used"]),
        "balance_remaining": _n(after["remaining"]), "balance_expired": _n(0),
    }  # fmt: skip


def _usage_out(usage: Usage, free: int, after: dict[str, Any]) -> dict[str, Any]:
    return {"request_id": usage.request_id, "account_id": usage.account_id, "model_id": usage.model_id,
            "quantity": usage.quantity, "free": free, "billable": usage.quantity - free, "unbilled_overage": 0,
            "charge": {"currency": "CNY", "amount": "0"}, "free_remaining": after["remaining"],
            "auto_claimed": False, "replayed": False, "reversed": False}  # fmt: skip


def _settle(item: dict[str, Any], held: int) -> dict[str, Any]:
    """The hold's item turned into the usage record, on the condition that it is still the open hold."""
    settled = {name: value for name, value in item.items() if name not in ("PK", "SK")} | {"status": _s("settled")}
    names = {f"#a{index}": name for index, name in enumerate(settled)}
    values = {f":a{index}": value for index, value in enumerate(settled.values())}
    return {"Update": {
        "TableName": TABLE, "Key": {"PK": item["PK"], "SK": item["SK"]},
        "ConditionExpression": "#st = :open AND #held = :held",
        "UpdateExpression": "SET " + ", ".join(f"{name} = :{name[1:]}" for name in names) + " REMOVE open_shard",
        "ExpressionAttributeNames": names | {"#st": "status", "#held": "held"},
        "ExpressionAttributeValues": values | {":open": _s("open"), ":held": _n(held)},
    }}  # fmt: skip


def _transact(items: list[dict[str, Any]]) -> None:
    client.transact_write_items(TransactItems=items, ClientRequestToken=str(uuid.uuid4()))


def _grant(account_id: str, model_id: str) -> dict[str, Any]:
    return grants[(account_id, model_id)] | {"account_id": account_id, "model_id": model_id}


@app.post("/v1/usage")
def record_usage(usage: Annotated[Usage, Body()]) -> dict[str, Any]:
    now, hold = _now(), holds.pop(usage.request_id, None)
    grant = _grant(usage.account_id, usage.model_id)
    after = _draw(grant, usage.quantity, released=hold["held"] if hold else 0)
    free = after["used"] - grant["used"]
    item = _usage_item(usage, free, after, now)
    if hold is None:
        write = {"Put": {"TableName": TABLE, "Item": item, "ConditionExpression": "attribute_not_exists(PK)"}}
    else:
        write = _settle(item, hold["held"])
    _transact([write, {"Update": _grant_update(grant, after, now)}])
    grants[(usage.account_id, usage.model_id)] = after
    metrics.add_metric(name="FreeUnits", unit=MetricUnit.Count, value=free)
    return _usage_out(usage, free, after)


@app.post("/v1/holds")
def take_hold(ask: Annotated[Hold, Body()]) -> dict[str, Any]:
    now = datetime.now(UTC)
    grant = _grant(ask.account_id, ask.model_id)
    held = min(ask.estimate, grant["unreserved"])
    expires = (now + timedelta(seconds=900)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    fingerprint = hashlib.sha256(ask.model_dump_json().encode()).hexdigest()
    item = {"PK": _s(f"USAGE#{ask.request_id}"), "SK": _s("USAGE"), "item_type": _s("hold"), "status": _s("open"),
            "account_id": _s(ask.account_id), "model_id": _s(ask.model_id), "request_id": _s(ask.request_id),
            "estimate": _n(ask.estimate), "held": _n(held), "free_available": _n(grant["unreserved"] - held),
            "source": _s("free"), "created_at": _s(_now()), "expires_at": _s(expires), "ttl_seconds": _n(900),
            "hold_auto_claimed": {"BOOL": False}, "hold_fingerprint": _s(fingerprint),
            "hold_write_id": _s(uuid.uuid4().hex), "open_shard": _s(f"{uuid.uuid4().int % 16:02d}")}  # fmt: skip
    after = grant | {"held_total": grant["held_total"] + held, "unreserved": grant["unreserved"] - held}
    update = {"TableName": TABLE, "Key": _grant_key(ask.account_id, ask.model_id),
              "ConditionExpression": "expires_at > :now AND remaining = :r0 AND held_total = :h0",
              "UpdateExpression": "SET held_total = :h, unreserved = :u",
              "ExpressionAttributeValues": {":now": _s(_now()), ":r0": _n(grant["remaining"]),
                                            ":h0": _n(grant["held_total"]), ":h": _n(after["held_total"]),
                                            ":u": _n(after["unreserved"])}}  # fmt: skip
    put = {"TableName": TABLE, "Item": item, "ConditionExpression": "attribute_not_exists(PK)"}
    _transact([{"Put": put}, {"Update": update}])
    grants[(ask.account_id, ask.model_id)], holds[ask.request_id] = after, {"held": held}
    metrics.add_metric(name="HeldUnits", unit=MetricUnit.Count, value=held)
    return {"request_id": ask.request_id, "account_id": ask.account_id, "model_id": ask.model_id,
            "estimate": ask.estimate, "held": held, "source": "free", "free_available": after["unreserved"],
            "expires_at": expires, "auto_claimed": False, "replayed": False}  # fmt: skip


@app.post("/v1/usage/batch")
def record_usage_batch(batch: Annotated[Batch, Body()]) -> dict[str, Any]:
    """The records in order, in transactions of at most 100 items: each the records' puts and
    one update of every grant they draw on (one grant here, as the bench sends)."""
    results, chunk = [], MAX_TRANSACTION_ITEMS // 2
    for start in range(0, len(batch.records), chunk):
        now, puts, firsts = _now(), [], {}
        for usage in batch.records[start : start + chunk]:
            key = (usage.account_id, usage.model_id)
            before = _grant(*key)
            after = _draw(before, usage.quantity)
            free = after["used"] - before["used"]
            puts.append({"Put": {"TableName": TABLE, "Item": _usage_item(usage, free, after, now),
                                 "ConditionExpression": "attribute_not_exists(PK)"}})  # fmt: skip
            firsts.setdefault(key, before)
            grants[key] = after
            results.append(_usage_out(usage, free, after))
        draws = [{"Update": _grant_update(first, _grant(*key), now)} for key, first in firsts.items()]
        _transact([*puts, *draws])
    metrics.add_metric(name="BatchRecords", unit=MetricUnit.Count, value=len(results))
    return {"results": results}


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
