"""The benchmark's write-unit arithmetic and per-partition ceiling (bench/capacity.py), and the
meter's record of what each request wrote (infra/testing/dynamo_meter.py)."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from bench import hot_customers, report_hot
from bench.capacity import TABLE, TableSpec, ceiling, index_writes, units_by_target
from bench.report_capacity import batch_targets
from infra.local.template import table_definition
from infra.testing.dynamo_meter import DynamoMeter, ItemImages, ItemWrite, RawItem
from infra.testing.dynamo_sizes import item_size
from tests.conftest import TABLE_NAME

LEDGER = TableSpec.from_definition(table_definition(TABLE_NAME))
TABLES = {"ledger": LEDGER}
[USAGE_INDEX] = [index for index in LEDGER.indexes if index.name == "usage-by-account"]
[EXPIRY_INDEX] = [index for index in LEDGER.indexes if index.name == "expiry-candidates"]


def grant(account: str, remaining: int, shard: str | None = "03", padding: int = 0) -> RawItem:
    item: RawItem = {"PK": {"S": f"ACCOUNT#{account}"}, "SK": {"S": "GRANT#lang-01"}, "item_type": {"S": "grant"},
                     "account_id": {"S": account}, "model_id": {"S": "lang-01"}, "quota": {"N": "1000"},
                     "remaining": {"N": str(remaining)}, "expires_at": {"S": "2026-06-01T00:00:00.000Z"},
                     "notes": {"S": "x" * padding}}  # fmt: skip
    if shard is not None:
        item["expiry_shard"] = {"S": shard}
    return item


def usage(account: str, request_id: str) -> RawItem:
    return {"PK": {"S": f"USAGE#{request_id}"}, "SK": {"S": "USAGE"}, "item_type": {"S": "usage"},
            "usage_account": {"S": account}, "usage_order": {"S": f"2026-03-01T08:00:00.000Z#{request_id}"},
            "quantity": {"N": "10"}}  # fmt: skip


def written(before: RawItem | None, after: RawItem | None, request: int = 1, transactional: bool = True) -> ItemWrite:
    return ItemWrite(request, "ledger", transactional, before, after)


def test_a_single_usage_costs_two_transactional_items_and_one_index_entry() -> None:
    writes = [written(None, usage("a", "r1")), written(grant("a", 100), grant("a", 90))]
    assert units_by_target(writes, TABLES) == {TABLE: 4, "usage-by-account": 1}


def test_a_table_item_is_billed_by_its_larger_image_per_started_kb() -> None:
    small, large = grant("a", 100), grant("a", 90, padding=1500)
    assert units_by_target([written(small, large, transactional=False)], TABLES)[TABLE] == 2
    assert units_by_target([written(large, small)], TABLES)[TABLE] == 4


def test_write_units_follow_dynamodbs_size_rules() -> None:
    """bench/capacity.py bills by infra/testing/dynamo_sizes.py: a map element's byte included."""
    key: RawItem = {"PK": {"S": "ACCOUNT#a"}, "SK": {"S": "GRANT#lang-01"}}
    periods: RawItem = {"held_units": {"M": {str(1772352000 + 60 * n): {"N": "1"} for n in range(58)}}}
    padding = 1024 - item_size(key | periods) - len("pad")
    item = key | periods | {"pad": {"S": "x" * padding}}
    assert item_size(item) == 1024
    assert units_by_target([ItemWrite(1, "ledger", True, item, item)], TABLES) == {TABLE: 2}
    grown = item | {"pad": {"S": "x" * (padding + 1)}}
    assert units_by_target([ItemWrite(1, "ledger", True, item, grown)], TABLES) == {TABLE: 4}


def test_an_index_is_written_only_when_what_it_holds_changes() -> None:
    assert index_writes(written(grant("a", 100), grant("a", 90)), LEDGER, EXPIRY_INDEX) == []  # remaining not held
    emptied = grant("a", 0, shard=None)
    assert len(index_writes(written(grant("a", 100), emptied), LEDGER, EXPIRY_INDEX)) == 1  # leaves the index
    moved = grant("a", 100, shard="07")
    assert len(index_writes(written(grant("a", 100), moved), LEDGER, EXPIRY_INDEX)) == 2  # a delete and a put
    assert len(index_writes(written(None, grant("a", 100)), LEDGER, EXPIRY_INDEX)) == 1  # enters it
    assert index_writes(written(None, grant("a", 100)), LEDGER, USAGE_INDEX) == []  # not in a sparse index


def test_a_single_usage_stream_is_bound_by_the_grant() -> None:
    writes = [written(None, usage("a", f"r{index}"), index) for index in range(3)]
    writes += [written(grant("a", 9), grant("a", 8), index) for index in range(3)]
    found = ceiling(writes, TABLES, records=3, units_per_second=1000)
    assert (found["records_per_s"], found["binding"], found["binding_items"]) == (500, "table partition ACCOUNT#a",
                                                                                   ["grant"])  # fmt: skip
    assert found["by_partition"]["usage-by-account partition a"]["records_per_s"] == 1000
    assert not any(label.startswith("table partition USAGE#") for label in found["by_partition"])


def test_a_batched_stream_is_bound_by_the_accounts_usage_index() -> None:
    writes = [written(grant("a", 9), grant("a", 8), request) for request in (1, 2)]
    writes += [written(None, usage("a", f"r{request}-{index}"), request) for request in (1, 2) for index in range(99)]
    found = ceiling(writes, TABLES, records=198, units_per_second=1000)
    assert (found["records_per_s"], found["binding"]) == (1000, "usage-by-account partition a")
    assert found["by_partition"]["table partition ACCOUNT#a"]["records_per_s"] == 49500


def test_a_ceiling_needs_a_stream_of_several_requests() -> None:
    with pytest.raises(ValueError, match="longer stream"):
        ceiling([written(None, usage("a", "r1")), written(grant("a", 9), grant("a", 8))], TABLES, 1, 1000)


def test_the_meter_keeps_each_written_item_before_and_after(dynamodb: Any) -> None:
    meter = DynamoMeter(images=ItemImages(boto3.client("dynamodb", region_name="us-east-1")))
    client = boto3.client("dynamodb", region_name="us-east-1")
    meter.attach(client)
    item = grant("a", 100)
    client.put_item(TableName=TABLE_NAME, Item=item)
    client.transact_write_items(TransactItems=[
        {"Update": {"TableName": TABLE_NAME, "Key": {"PK": item["PK"], "SK": item["SK"]},
                    "UpdateExpression": "SET remaining = :r", "ExpressionAttributeValues": {":r": {"N": "90"}}}},
        {"Put": {"TableName": TABLE_NAME, "Item": usage("a", "r1")}},
    ])  # fmt: skip
    with pytest.raises(client.exceptions.ConditionalCheckFailedException):
        client.put_item(TableName=TABLE_NAME, Item=item, ConditionExpression="attribute_not_exists(PK)")
    first, update, put = meter.writes
    assert (first.request, first.transactional, first.before, first.after) == (1, False, None, item)
    assert (update.request, update.transactional, update.before) == (2, True, item)
    assert update.after == item | {"remaining": {"N": "90"}}
    assert (put.before, put.after) == (None, usage("a", "r1"))
    assert meter.total_requests == 3  # the refused put wrote nothing; the meter's own reads are not counted
    meter.detach()
    client.delete_item(TableName=TABLE_NAME, Key={"PK": item["PK"], "SK": item["SK"]})
    assert (meter.total_requests, len(meter.writes)) == (3, 3)


def test_the_batch_targets_compare_requests_and_units_per_record_with_the_baseline() -> None:
    def op(requests: int, per_record: float, grants: int) -> dict[str, Any]:
        return {"requests": requests, "records": 100, "grants": grants, "write_units_per_record": per_record}

    results = {
        "ops": {"usage_batch_100": op(2, 3.04, 1), "usage_batch_mixed": op(3, 4.1, 10)},
        "baseline_ops": {"usage_batch_100": op(500, 4.0, 1), "usage_batch_mixed": op(500, 4.0, 10)},
    }
    assert [(met, measured) for _, met, measured in batch_targets(results)] == [
        (True, "2"), (False, "3"), (True, "3.04 against 4.0"), (False, "4.1 against 4.0")
    ]  # fmt: skip


def test_a_condition_check_is_billed_as_a_transactional_write_of_the_item_it_checks(dynamodb: Any) -> None:
    """DynamoDB reads or writes every item of a transaction twice (prepare, commit): a checked
    profile of under 1 KB costs 2 units on its partition, and no index entry."""
    meter = DynamoMeter(images=ItemImages(boto3.client("dynamodb", region_name="us-east-1")))
    client = boto3.client("dynamodb", region_name="us-east-1")
    profile: RawItem = {"PK": {"S": "ACCOUNT#a"}, "SK": {"S": "PROFILE"}, "item_type": {"S": "profile"},
                        "postpaid_enabled": {"BOOL": True}}  # fmt: skip
    client.put_item(TableName=TABLE_NAME, Item=profile)
    meter.attach(client)
    client.transact_write_items(TransactItems=[
        {"ConditionCheck": {"TableName": TABLE_NAME, "Key": {"PK": profile["PK"], "SK": profile["SK"]},
                            "ConditionExpression": "postpaid_enabled = :on",
                            "ExpressionAttributeValues": {":on": {"BOOL": True}}}},
        {"Put": {"TableName": TABLE_NAME, "Item": usage("a", "r1")}},
    ])  # fmt: skip
    check, put = meter.writes
    assert (check.checked_only, check.before, check.after) == (True, profile, profile)
    assert put.checked_only is False
    assert units_by_target(meter.writes, {TABLE_NAME: LEDGER}) == {TABLE: 2 + 2, "usage-by-account": 1}
    stream = ceiling([check, put, *(ItemWrite(2, TABLE_NAME, True, profile, profile, True),)],
                     {TABLE_NAME: LEDGER}, records=2, units_per_second=1000)  # fmt: skip
    assert (stream["records_per_s"], stream["binding_items"]) == (500, ["profile check"])
    meter.detach()


def test_the_hot_customer_targets_read_yes_or_no_from_the_binding_partitions() -> None:
    def found(rate: float, binding: str, items: list[str], grant_rate: float = 0) -> dict[str, Any]:
        return {"records_per_s": rate, "binding": binding, "binding_items": items,
                "grant_records_per_s": grant_rate, "grant_binding": "table partition ACCOUNT#x"}  # fmt: skip

    detail = {
        "batch": found(13_888.9, "usage-by-account partition x", ["usage"], 25_000),
        "ten_batch": found(5_000, "table partition ACCOUNT#x", ["grant"]),
        "ten_batch_grouped": found(12_345.7, "usage-by-account partition x#1", ["usage"]),
        "single": found(500, "table partition ACCOUNT#x", ["grant"]),
        "paying_single": found(500, "table partition ACCOUNT#x", ["profile check"]),
        "paying_batch": found(12_048.2, "usage-by-account partition x#3", ["usage"]),
    }
    assert [met for _, met, _ in report_hot.targets(detail)] == [True, False, True, True, True, True]
    detail["paying_single"] = found(250, "table partition ACCOUNT#x", ["grant check", "profile check"])
    assert [met for _, met, _ in report_hot.targets(detail)][-1] is False  # checking the grant is being bound by it
    detail["paying_batch"] = found(5_000, "table partition ACCOUNT#x", ["grant"])
    assert [met for _, met, _ in report_hot.targets(detail)][-1] is False


def test_a_grant_is_bound_by_its_own_partitions_only() -> None:
    by_partition = {
        "usage-by-account partition hot": {"records_per_s": 13_888.9},
        "table partition ACCOUNT#hot": {"records_per_s": 25_000},
        "grant-ledger partition hot#lang-01#2": {"records_per_s": 31_250},
    }
    assert hot_customers.grant_bound({"by_partition": by_partition}, "hot") == (25_000, "table partition ACCOUNT#hot")
