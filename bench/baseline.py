"""The textbook design, written for comparison only: Powertools' idempotency decorator around a
read-check-update of the grant, with boto3's resource API.

    record usage = idempotency record (put INPROGRESS) + GetItem grant + UpdateItem grant
                   (condition: enough remains) + PutItem usage record + idempotency (COMPLETED)

It is what a careful first version looks like: the condition prevents overspend, the decorator
prevents double processing for as long as its records live (``expires_after_seconds``). It is
not atomic (a crash between the grant update and the usage put loses a record) and it is measured
here only for requests, items and throughput."""

from __future__ import annotations

import os
from decimal import Decimal
from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from boto3.dynamodb.conditions import Attr

from trial_ledger.dynamo.keys import grant_key

IDEMPOTENCY_TABLE = os.environ.get("BASELINE_IDEMPOTENCY_TABLE", "baseline-idempotency")


def idempotency_table_definition(name: str = IDEMPOTENCY_TABLE) -> dict[str, Any]:
    """The table Powertools' documentation prescribes for its idempotency records."""
    return {
        "TableName": name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
    }


@cache
def _table() -> Any:
    return boto3.resource("dynamodb", endpoint_url=os.environ.get("DYNAMODB_ENDPOINT_URL") or None).Table(
        os.environ["TABLE_NAME"]
    )


@cache
def _persistence() -> DynamoDBPersistenceLayer:
    client = boto3.client("dynamodb", endpoint_url=os.environ.get("DYNAMODB_ENDPOINT_URL") or None)
    return DynamoDBPersistenceLayer(table_name=IDEMPOTENCY_TABLE, boto3_client=client)


_CONFIG = IdempotencyConfig(event_key_jmespath="request_id", expires_after_seconds=90 * 24 * 3600)


def _grant_key(account_id: str, model_id: str) -> dict[str, str]:
    """The grant items it reads and updates are the ledger's own (the ledger claims them)."""
    pk, sk = grant_key(account_id, model_id)
    return {"PK": pk, "SK": sk}


def authorize(account_id: str, model_id: str) -> dict[str, Any]:
    table = _table()
    profile = table.get_item(Key={"PK": f"ACCOUNT#{account_id}", "SK": "PROFILE"}, ConsistentRead=True).get("Item")
    grant = table.get_item(Key=_grant_key(account_id, model_id), ConsistentRead=True).get("Item")
    remaining = int(grant["remaining"]) if grant else 0
    postpaid = bool(profile and profile.get("postpaid_enabled"))
    return {"allowed": remaining > 0 or postpaid, "free_remaining": remaining}


def record_usage(usage: dict[str, Any]) -> dict[str, Any]:
    return _record_usage(usage=usage)


@cache
def _decorated() -> Any:
    @idempotent_function(data_keyword_argument="usage", persistence_store=_persistence(), config=_CONFIG)
    def record(usage: dict[str, Any]) -> dict[str, Any]:
        table = _table()
        key = _grant_key(usage["account_id"], usage["model_id"])
        grant = table.get_item(Key=key, ConsistentRead=True).get("Item")  # read
        remaining = int(grant["remaining"]) if grant else 0
        free = min(int(usage["quantity"]), remaining)  # check
        if free:
            table.update_item(  # update
                Key=key,
                UpdateExpression="SET remaining = remaining - :f, used = used + :f",
                ConditionExpression=Attr("remaining").gte(free),
                ExpressionAttributeValues={":f": free},
            )
        result = {
            "request_id": usage["request_id"],
            "free": free,
            "unbilled_overage": int(usage["quantity"]) - free,
            "free_remaining": remaining - free,
        }
        table.put_item(Item={"PK": f"BASELINE#{usage['request_id']}", "SK": "USAGE", **result,
                             "quantity": Decimal(usage["quantity"])})  # fmt: skip
        if free:  # the grant's ledger entry (R19): the textbook design writes one item per entry
            table.put_item(Item={"PK": f"LEDGER#{usage['account_id']}#{usage['model_id']}",
                                 "SK": f"ENTRY#{usage['request_id']}", "free": free})  # fmt: skip
        return result

    return record


def _record_usage(usage: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = _decorated()(usage=usage)
    return result
