"""DynamoDB's limits, kept by the guard every moto of the suite runs with (infra/testing/dynamo_limits.py):
each refusal through boto3 with DynamoDB's error code and message, and the write just under each
limit accepted; then DynamoDB's item size rules (infra/testing/dynamo_sizes.py) one by one."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto.dynamodb.models import dynamodb_backends

from infra.local.embedded_dynamodb import EmbeddedDynamoDB
from infra.testing.dynamo_limits import (
    HASH_KEY_TOO_LARGE,
    INDEX_KEY_TOO_LARGE,
    ITEM_TOO_LARGE,
    MAX_ITEM_BYTES,
    RANGE_KEY_TOO_LARGE,
    TRANSACTION_TOO_LARGE,
    UPDATE_TOO_LARGE,
)
from infra.testing.dynamo_sizes import item_size, number_size, value_size

TABLE = "trial-quota-test"
Item = dict[str, Any]


def key(pk: str = "limits", sk: str = "item") -> Item:
    return {"PK": {"S": pk}, "SK": {"S": sk}}


def sized(size: int, base: Item | None = None, pad: str = "p") -> Item:
    """``base`` (a key by default) and one string attribute, measuring exactly ``size`` bytes."""
    item = dict(base or key())
    item[pad] = {"S": "x" * (size - item_size(item) - len(pad))}
    assert item_size(item) == size
    return item


def refused(call: Callable[[], Any], code: str = "ValidationException") -> dict[str, Any]:
    with pytest.raises(ClientError) as caught:
        call()
    response: dict[str, Any] = dict(caught.value.response)
    assert response["Error"]["Code"] == code
    return response


def message(call: Callable[[], Any]) -> str:
    return str(refused(call)["Error"]["Message"])


def stream_records() -> int:
    shard = dynamodb_backends["123456789012"]["us-east-1"].get_table(TABLE).stream_shard
    assert shard is not None
    return len(shard.items)


def test_an_item_of_exactly_400_kb_is_put_and_one_byte_more_is_refused(dynamodb: Any) -> None:
    dynamodb.put_item(TableName=TABLE, Item=sized(MAX_ITEM_BYTES))
    assert item_size(dynamodb.get_item(TableName=TABLE, Key=key())["Item"]) == MAX_ITEM_BYTES
    over = sized(MAX_ITEM_BYTES + 1, key(sk="over"))
    assert message(lambda: dynamodb.put_item(TableName=TABLE, Item=over)) == ITEM_TOO_LARGE
    assert "Item" not in dynamodb.get_item(TableName=TABLE, Key=key(sk="over"))


def test_names_nesting_and_numbers_count_towards_the_limit(dynamodb: Any) -> None:
    """The same 400 KB with its bytes spread over a map, a list, numbers and long names."""
    nested = {"M": {"n" * 100: {"L": [{"N": "3.14159"}, {"BOOL": True}, {"NULL": True}]}, "s": {"SS": ["a", "b"]}}}
    base = key() | {"a" * 200: nested}
    dynamodb.put_item(TableName=TABLE, Item=sized(MAX_ITEM_BYTES, base))
    over = sized(MAX_ITEM_BYTES + 1, base | key(sk="over"))
    assert message(lambda: dynamodb.put_item(TableName=TABLE, Item=over)) == ITEM_TOO_LARGE


def test_an_update_is_measured_on_the_item_it_leaves_and_undone_if_over(dynamodb: Any) -> None:
    """The issue's case: a map grown in place (moto checked only whole attributes)."""
    dynamodb.put_item(TableName=TABLE, Item=key() | {"held": {"M": {}}})
    room = MAX_ITEM_BYTES - item_size(key() | {"held": {"M": {"r": {"S": ""}}}})

    def grow(by: int, entry: str) -> Any:
        return dynamodb.update_item(TableName=TABLE, Key=key(), UpdateExpression="SET held.#r = :v",
                                    ExpressionAttributeNames={"#r": entry},
                                    ExpressionAttributeValues={":v": {"S": "x" * by}})  # fmt: skip

    grow(room, "r")
    assert item_size(dynamodb.get_item(TableName=TABLE, Key=key())["Item"]) == MAX_ITEM_BYTES
    records = stream_records()
    assert message(lambda: grow(room + 1, "r")) == UPDATE_TOO_LARGE
    assert dynamodb.get_item(TableName=TABLE, Key=key())["Item"]["held"]["M"]["r"]["S"] == "x" * room
    assert stream_records() == records  # nothing of the refused update was committed


def test_a_new_item_made_by_an_update_over_the_limit_is_not_kept(dynamodb: Any) -> None:
    update = {"TableName": TABLE, "Key": key(), "UpdateExpression": "SET p = :v",
              "ExpressionAttributeValues": {":v": {"S": "x" * MAX_ITEM_BYTES}}}  # fmt: skip
    assert message(lambda: dynamodb.update_item(**update)) == UPDATE_TOO_LARGE
    assert "Item" not in dynamodb.get_item(TableName=TABLE, Key=key())


def test_a_transaction_update_over_the_limit_cancels_it_with_a_validation_error(dynamodb: Any) -> None:
    dynamodb.put_item(TableName=TABLE, Item=key() | {"n": {"N": "1"}})
    records = stream_records()
    grow = {"Update": {"TableName": TABLE, "Key": key(), "UpdateExpression": "SET p = :v",
                       "ExpressionAttributeValues": {":v": {"S": "x" * MAX_ITEM_BYTES}}}}  # fmt: skip
    other = {"Put": {"TableName": TABLE, "Item": key(sk="other")}}
    answer = refused(lambda: dynamodb.transact_write_items(TransactItems=[other, grow]), "TransactionCanceledException")
    assert answer["CancellationReasons"] == [{"Code": "None"}, {"Code": "ValidationError", "Message": UPDATE_TOO_LARGE}]
    assert dynamodb.get_item(TableName=TABLE, Key=key())["Item"] == key() | {"n": {"N": "1"}}
    assert "Item" not in dynamodb.get_item(TableName=TABLE, Key=key(sk="other"))
    assert stream_records() == records


def test_a_transaction_put_over_the_limit_is_refused_before_anything_is_written(dynamodb: Any) -> None:
    puts = [{"Put": {"TableName": TABLE, "Item": key(sk="first")}},
            {"Put": {"TableName": TABLE, "Item": sized(MAX_ITEM_BYTES + 1)}}]  # fmt: skip
    assert message(lambda: dynamodb.transact_write_items(TransactItems=puts)) == ITEM_TOO_LARGE
    assert "Item" not in dynamodb.get_item(TableName=TABLE, Key=key(sk="first"))


def transaction_of(count: int) -> list[Item]:
    return [{"Put": {"TableName": TABLE, "Item": key(sk=f"t{index}")}} for index in range(count)]


def test_a_transaction_of_100_actions_is_accepted_and_of_101_refused(dynamodb: Any) -> None:
    dynamodb.transact_write_items(TransactItems=transaction_of(100))
    text = message(lambda: dynamodb.transact_write_items(TransactItems=transaction_of(101)))
    assert re.fullmatch(r"1 validation error detected: Value '\[(com\.amazonaws\.dynamodb\.v20120810\.TransactWriteItem"
                        r"@[0-9a-f]+(, )?){101}\]' at 'transactItems' failed to satisfy constraint: Member must have "
                        r"length less than or equal to 100", text)  # fmt: skip
    gets = [{"Get": {"TableName": TABLE, "Key": key(sk=f"t{index}")}} for index in range(101)]
    assert len(dynamodb.transact_get_items(TransactItems=gets[:100])["Responses"]) == 100  # moto alone allowed 25
    assert "at 'transactItems'" in message(lambda: dynamodb.transact_get_items(TransactItems=gets))


BIG = 390_000
"""Ten items of this size are under 4 MB (4,194,304 bytes), eleven over."""


def test_a_transaction_over_4_mb_of_items_is_refused(dynamodb: Any) -> None:
    puts = [{"Put": {"TableName": TABLE, "Item": sized(BIG, key(sk=f"big{index}"))}} for index in range(11)]
    dynamodb.transact_write_items(TransactItems=puts[:10])
    assert message(lambda: dynamodb.transact_write_items(TransactItems=puts)) == TRANSACTION_TOO_LARGE
    assert "Item" not in dynamodb.get_item(TableName=TABLE, Key=key(sk="big10"))
    gets = [{"Get": {"TableName": TABLE, "Key": key(sk=f"big{index}")}} for index in range(10)]
    assert len(dynamodb.transact_get_items(TransactItems=gets)["Responses"]) == 10
    dynamodb.put_item(TableName=TABLE, Item=sized(BIG, key(sk="big10")))
    gets.append({"Get": {"TableName": TABLE, "Key": key(sk="big10")}})
    assert message(lambda: dynamodb.transact_get_items(TransactItems=gets)) == TRANSACTION_TOO_LARGE


def test_updates_that_take_a_transaction_over_4_mb_are_undone(dynamodb: Any) -> None:
    for index in range(11):
        dynamodb.put_item(TableName=TABLE, Item=sized(BIG, key(sk=f"big{index}")))
    records = stream_records()
    touch = [{"Update": {"TableName": TABLE, "Key": key(sk=f"big{index}"), "UpdateExpression": "SET touched = :t",
                         "ExpressionAttributeValues": {":t": {"BOOL": True}}}} for index in range(11)]  # fmt: skip
    assert message(lambda: dynamodb.transact_write_items(TransactItems=touch)) == TRANSACTION_TOO_LARGE
    assert "touched" not in dynamodb.get_item(TableName=TABLE, Key=key(sk="big0"))["Item"]
    assert stream_records() == records
    dynamodb.transact_write_items(TransactItems=touch[:10])


def batch_of(count: int, table: str = TABLE) -> list[Item]:
    return [{"PutRequest": {"Item": key(sk=f"{table}-{index}")}} for index in range(count)]


@pytest.fixture
def second_table(dynamodb: Any) -> str:
    schema = [{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}]
    attributes = [{"AttributeName": name, "AttributeType": "S"} for name in ("PK", "SK")]
    dynamodb.create_table(TableName="second", BillingMode="PAY_PER_REQUEST", KeySchema=schema,
                          AttributeDefinitions=attributes)  # fmt: skip
    return "second"


def test_a_batch_write_of_25_requests_is_accepted_and_of_26_refused(dynamodb: Any, second_table: str) -> None:
    dynamodb.batch_write_item(RequestItems={TABLE: batch_of(25)})
    text = message(lambda: dynamodb.batch_write_item(RequestItems={TABLE: batch_of(26)}))
    assert re.fullmatch(rf"1 validation error detected: Value '\{{{TABLE}=\[(com\.amazonaws\.dynamodb\.v20120810\."
                        r"WriteRequest@[0-9a-f]+(, )?){26}\]\}' at 'requestItems' failed to satisfy constraint: Map "
                        r"value must satisfy constraint: \[Member must have length less than or equal to 25, Member "
                        r"must have length greater than or equal to 1\]", text)  # fmt: skip
    both = {TABLE: batch_of(13), second_table: batch_of(13, second_table)}
    assert message(lambda: dynamodb.batch_write_item(RequestItems=both)) == (
        "Too many items requested for the BatchWriteItem call"
    )
    over = {TABLE: [{"PutRequest": {"Item": sized(MAX_ITEM_BYTES + 1)}}]}
    assert message(lambda: dynamodb.batch_write_item(RequestItems=over)) == ITEM_TOO_LARGE


def test_a_batch_get_of_100_keys_is_accepted_and_of_101_refused(dynamodb: Any, second_table: str) -> None:
    keys = [key(sk=f"k{index}") for index in range(101)]
    dynamodb.batch_get_item(RequestItems={TABLE: {"Keys": keys[:100]}})
    assert message(lambda: dynamodb.batch_get_item(RequestItems={TABLE: {"Keys": keys}})) == (
        f"1 validation error detected: Value at 'RequestItems.{TABLE}.member.Keys' failed to satisfy constraint: "
        "Member must have length less than or equal to 100"
    )
    both = {TABLE: {"Keys": keys[:60]}, second_table: {"Keys": keys[60:]}}
    assert message(lambda: dynamodb.batch_get_item(RequestItems=both)) == (
        "Too many items requested for the BatchGetItem call"
    )


def expressions(size: int) -> dict[str, Callable[[Any], Any]]:
    """A call per kind of expression, the expression padded with spaces to ``size`` bytes."""

    def pad(text: str) -> str:
        return text + " " * (size - len(text))

    pk = {":pk": {"S": "limits"}}
    return {
        "ConditionExpression": lambda db: db.put_item(TableName=TABLE, Item=key(sk="c"),
                                                      ConditionExpression=pad("attribute_not_exists(PK)")),
        "UpdateExpression": lambda db: db.update_item(TableName=TABLE, Key=key(), UpdateExpression=pad("SET n = :n"),
                                                      ExpressionAttributeValues={":n": {"N": "1"}}),
        "ProjectionExpression": lambda db: db.get_item(TableName=TABLE, Key=key(), ProjectionExpression=pad("PK, n")),
        "KeyConditionExpression": lambda db: db.query(TableName=TABLE, KeyConditionExpression=pad("PK = :pk"),
                                                      ExpressionAttributeValues=pk),
        "FilterExpression": lambda db: db.query(TableName=TABLE, KeyConditionExpression="PK = :pk",
                                                FilterExpression=pad("attribute_exists(n)"),
                                                ExpressionAttributeValues=pk),
    }  # fmt: skip


@pytest.mark.parametrize("name", list(expressions(0)))
def test_an_expression_of_4096_bytes_is_accepted_and_of_4097_refused(dynamodb: Any, name: str) -> None:
    expressions(4096)[name](dynamodb)
    assert message(lambda: expressions(4097)[name](dynamodb)) == (
        f"Invalid {name}: Expression size has exceeded the maximum allowed size; expression size: 4097"
    )


def test_key_values_over_2048_and_1024_bytes_are_refused_wherever_they_are_sent(dynamodb: Any) -> None:
    dynamodb.put_item(TableName=TABLE, Item=key("k" * 2048, "s" * 1024))
    for pk, sk, refusal in (("k" * 2049, "s", HASH_KEY_TOO_LARGE), ("k", "s" * 1025, RANGE_KEY_TOO_LARGE)):
        assert message(lambda: dynamodb.put_item(TableName=TABLE, Item=key(pk, sk))) == refusal  # noqa: B023
        assert message(lambda: dynamodb.get_item(TableName=TABLE, Key=key(pk, sk))) == refusal  # noqa: B023
        assert message(lambda: dynamodb.delete_item(TableName=TABLE, Key=key(pk, sk))) == refusal  # noqa: B023
    index_key = key() | {"expiry_shard": {"S": "e" * 2048}, "expires_at": {"S": "t" * 1025}}
    assert message(lambda: dynamodb.put_item(TableName=TABLE, Item=index_key)) == RANGE_KEY_TOO_LARGE


def test_an_update_that_would_grow_an_index_key_over_its_limit_is_refused(dynamodb: Any) -> None:
    dynamodb.put_item(TableName=TABLE, Item=key())
    update = {"TableName": TABLE, "Key": key(), "UpdateExpression": "SET expiry_shard = :s",
              "ExpressionAttributeValues": {":s": {"S": "e" * 2049}}}  # fmt: skip
    assert message(lambda: dynamodb.update_item(**update)) == INDEX_KEY_TOO_LARGE
    assert dynamodb.get_item(TableName=TABLE, Key=key())["Item"] == key()


def test_a_cancelled_transaction_leaves_no_stream_record(dynamodb: Any) -> None:
    """Its new item is taken back without the REMOVE record moto's delete would add."""
    records = stream_records()
    absent = {"TableName": TABLE, "Key": key(sk="absent"), "ConditionExpression": "attribute_exists(PK)"}
    actions = [*transaction_of(1), {"ConditionCheck": absent}]
    refused(lambda: dynamodb.transact_write_items(TransactItems=actions), "TransactionCanceledException")
    assert stream_records() == records


def test_the_embedded_dynamodb_of_make_run_keeps_the_limits() -> None:
    server = EmbeddedDynamoDB().start()
    try:
        server.create_table("embedded", "us-east-1")
        client = boto3.client("dynamodb", endpoint_url=server.endpoint_url, region_name="us-east-1")
        client.put_item(TableName="embedded", Item=sized(MAX_ITEM_BYTES))
        over = sized(MAX_ITEM_BYTES + 1)
        assert message(lambda: client.put_item(TableName="embedded", Item=over)) == ITEM_TOO_LARGE
    finally:
        server.stop()


@pytest.mark.parametrize(
    ("literal", "size"),
    [("0", 1), ("-0", 1), ("1", 2), ("12", 2), ("123", 3), ("1234", 3), ("0042", 2), ("100", 2), ("1010", 3),
     ("0.0000001", 2), ("1E125", 2), ("1E-100", 2), ("1.5", 3), ("1.200", 3), ("3.14159", 5), ("123456", 4),
     ("100.5", 4), ("0.15", 2), ("-42", 3), ("9" * 38, 20)],
)  # fmt: skip
def test_a_number_is_sized_by_its_significant_digits(literal: str, size: int) -> None:
    assert number_size(literal) == size


def test_the_size_of_each_kind_of_value() -> None:
    assert value_size({"S": "é"}) == 2  # UTF-8 bytes
    assert value_size({"B": b"\x00\x01\x02"}) == 3
    assert value_size({"BOOL": False}) == value_size({"NULL": True}) == 1
    assert value_size({"SS": ["ab", "c"]}) == 3
    assert value_size({"L": []}) == value_size({"M": {}}) == 3
    assert value_size({"L": [{"S": "ab"}, {"N": "1"}]}) == 3 + (1 + 2) + (1 + 2)
    assert value_size({"M": {"key": {"S": "ab"}}}) == 3 + 1 + 3 + 2
    assert item_size({"name": {"S": "value"}, "n": {"N": "10"}}) == 4 + 5 + 1 + 2
