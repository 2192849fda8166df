"""moto's short cuts (infra/testing/moto_speed.py) answer exactly what moto answers without them:
item images of every attribute type serialized as moto's generic walk does, through DynamoDB's and
DynamoDB Streams' operations (values the short cut does not know still take the walk); update
expressions parsed, copied, validated and applied, or refused, alike."""

from __future__ import annotations

import base64
import copy
import json
from typing import Any

from botocore.exceptions import ClientError
from hypothesis import given, settings
from hypothesis import strategies as st
from moto.core.parse import JSONParser
from moto.core.responses import ActionResult
from moto.core.serialize import BaseJSONSerializer, JSONSerializer, XFormedAttributePicker
from moto.core.utils import get_service_model
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.utilities import dynamo_to_dict
from moto.dynamodb.parsing.expressions import UpdateExpressionParser  # type: ignore[attr-defined]

from infra.testing import moto_speed
from tests.conftest import TABLE_NAME

moto_speed.install()  # as tests/conftest.py does: idempotent


class GenericSerializer(JSONSerializer):
    """moto's own walk, without the short cut."""

    _serialize_type_structure = BaseJSONSerializer._serialize_type_structure.__wrapped__  # type: ignore[attr-defined]


def serialized(serializer: type[JSONSerializer], service: str, operation: str, result: Any) -> Any:
    model = get_service_model(service).operation_model(operation)
    answer = serializer(model, value_picker=XFormedAttributePicker()).serialize(result)
    return answer["status_code"], answer["headers"], json.loads(answer["body"])


def both(service: str, operation: str, result: Any) -> Any:
    fast = serialized(JSONSerializer, service, operation, result)
    assert fast == serialized(GenericSerializer, service, operation, result)
    return fast[2]


names = st.text(min_size=1, max_size=8)
numbers = st.decimals(allow_nan=False, allow_infinity=False, places=3).map(str)
blobs = st.binary(max_size=12)
scalars = st.one_of(
    st.builds(lambda s: {"S": s}, st.text(max_size=12)),
    st.builds(lambda n: {"N": n}, numbers),
    st.builds(lambda b: {"B": b}, blobs),
    st.builds(lambda b: {"BOOL": b}, st.booleans()),
    st.just({"NULL": True}),
    st.builds(lambda ss: {"SS": ss}, st.lists(st.text(max_size=6), min_size=1, max_size=4, unique=True)),
    st.builds(lambda ns: {"NS": ns}, st.lists(numbers, min_size=1, max_size=4, unique=True)),
    st.builds(lambda bs: {"BS": bs}, st.lists(blobs, min_size=1, max_size=3, unique=True)),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.builds(lambda m: {"M": m}, st.dictionaries(names, inner, max_size=4)),
        st.builds(lambda items: {"L": items}, st.lists(inner, max_size=4)),
    ),
    max_leaves=20,
)
items = st.dictionaries(names, values, max_size=6)


@settings(max_examples=100, deadline=None)
@given(items, items)
def test_items_and_stream_images_serialize_as_moto_does(item: dict[str, Any], old: dict[str, Any]) -> None:
    both("dynamodb", "GetItem", {"Item": item})
    both("dynamodb", "Query", {"Items": [item, old], "Count": 2, "ScannedCount": 2, "LastEvaluatedKey": old})
    record = {"eventID": "1", "eventName": "MODIFY", "eventVersion": "1.1", "eventSource": "aws:dynamodb",
              "awsRegion": "us-east-1", "dynamodb": {"Keys": old, "NewImage": item, "OldImage": old,
                                                     "SequenceNumber": "1", "SizeBytes": 10,
                                                     "StreamViewType": "NEW_AND_OLD_IMAGES"}}  # fmt: skip
    both("dynamodbstreams", "GetRecords", {"Records": [record, record], "NextShardIterator": "x"})


def test_moto_items_serialize_as_moto_does() -> None:
    """Items as moto's DynamoDB handler hands them over (dynamo_to_dict of its DynamoTypes)."""
    values: dict[str, dict[str, Any]] = {
        "S": {"S": "text"}, "N": {"N": "12.5"}, "B": {"B": base64.b64encode(b"\x00\xff").decode()},
        "M": {"M": {"a": {"L": [{"N": "1"}, {"NULL": True}, {"BOOL": False}]}}},
        "BS": {"BS": [base64.b64encode(b"x").decode()]}, "SS": {"SS": ["a", "b"]}}  # fmt: skip
    item = {name: DynamoType(value) for name, value in values.items()}
    body = both("dynamodb", "GetItem", dynamo_to_dict({"Item": item}))
    assert body["Item"]["B"] == {"B": base64.b64encode(b"\x00\xff").decode()}
    assert body["Item"]["M"] == {"M": {"a": {"L": [{"N": "1"}, {"NULL": True}, {"BOOL": False}]}}}


def test_what_the_short_cut_does_not_know_takes_the_generic_walk() -> None:
    for odd in ({"s": "lower-case member"}, {"N": 12}, {"S": None, "N": "1"}, {"M": {"x": {"BOOL": "yes"}}},
                {"L": [{"S": "x"}, "not a value"]}, {"BOOL": None}):  # fmt: skip
        both("dynamodb", "GetItem", {"Item": {"odd": odd}})
    both("dynamodb", "GetItem", ActionResult({"Item": {"plain": {"S": "x"}}}).result)


EXPRESSIONS = [
    "SET #3 = #3 + :3, #4.#5 = if_not_exists (#4.#5, :4) + :5, #1 = :6, #2 = :7, #6 = :8",
    "SET #0 = :2, #3 = :3 REMOVE #4",
    "SET a.b[2] = list_append(a.b, :x) ADD c :y DELETE d :z REMOVE e[1], f",
]


def shape(node: Any, seen: dict[int, int] | None = None) -> Any:
    """A node tree as nested tuples: classes, attributes, and where each parent link points."""
    seen = {} if seen is None else seen
    if isinstance(node, list):
        return [shape(element, seen) for element in node]
    if not hasattr(node, "__dict__") or isinstance(node, DynamoType):
        return repr(node)
    seen.setdefault(id(node), len(seen))
    attributes = {name: seen.get(id(value)) if name == "parent" and value is not None else shape(value, seen)
                  for name, value in vars(node).items()}  # fmt: skip
    return type(node).__name__, seen[id(node)], attributes


def test_expression_trees_are_parsed_once_and_copied_as_deepcopy_copies_them() -> None:
    for expression in EXPRESSIONS:
        tree = UpdateExpressionParser.make(expression)
        assert UpdateExpressionParser.make(expression) is tree
        fast = copy.deepcopy(tree)
        with moto_speed.moto_as_it_is():
            assert UpdateExpressionParser.make(expression) is not tree
            generic = copy.deepcopy(tree)
        assert shape(fast) == shape(generic) == shape(tree)
        assert fast is not tree
        assert fast.children[0] is not tree.children[0]


ITEM = {"n": {"N": "5"}, "m": {"M": {"1796083620": {"N": "2"}}}, "l": {"L": [{"S": "a"}, {"S": "b"}, {"N": "1"}]},
        "s": {"SS": ["x", "y"]}, "s2": {"SS": ["x", "w"]}, "t": {"S": "text"}}  # fmt: skip
UPDATES: list[tuple[str, dict[str, str], dict[str, Any]]] = [
    ("SET #n = #n + :a, #m.#p = if_not_exists (#m.#p, :z) + :a, #t = :t",
     {"#n": "n", "#m": "m", "#p": "1796083620", "#t": "t"}, {":a": {"N": "3"}, ":z": {"N": "0"}, ":t": {"S": "u"}}),
    ("SET #m.#p = #m.#p - :a, fresh = :t REMOVE l[0], l[1]",
     {"#m": "m", "#p": "1796083620"}, {":a": {"N": "2"}, ":t": {"S": "v"}}),
    ("SET l = list_append(l, :l), m.#q = :a ADD n :a, s :s DELETE s2 :d",
     {"#q": "new"}, {":l": {"L": [{"BOOL": True}]}, ":a": {"N": "1"}, ":s": {"SS": ["z"]}, ":d": {"SS": ["x"]}}),
    ("SET t = :t, t = :u", {}, {":t": {"S": "a"}, ":u": {"S": "b"}}),  # overlapping paths
    ("SET t = :t SET n = :a", {}, {":t": {"S": "a"}, ":a": {"N": "1"}}),  # two SET clauses
    ("SET PK = :t", {}, {":t": {"S": "a"}}),  # a key attribute
    ("SET t = :t, n = :missing", {}, {":t": {"S": "a"}}),
    ("SET n = t + :a", {}, {":a": {"N": "1"}}),  # a string in arithmetic
    ("REMOVE nothing.there", {}, {}),
]  # fmt: skip


def updated(dynamodb: Any, expression: str, names: dict[str, str], values: dict[str, Any]) -> Any:
    key = {"PK": {"S": "speed"}, "SK": {"S": expression}}
    dynamodb.put_item(TableName=TABLE_NAME, Item=key | ITEM)
    arguments: dict[str, Any] = {"ExpressionAttributeNames": names} if names else {}
    if values:
        arguments["ExpressionAttributeValues"] = values
    try:
        answer = dynamodb.update_item(TableName=TABLE_NAME, Key=key, UpdateExpression=expression,
                                      ReturnValues="ALL_NEW", **arguments)["Attributes"]  # fmt: skip
    except ClientError as refused:
        answer = refused.response["Error"]
    return answer, dynamodb.get_item(TableName=TABLE_NAME, Key=key)["Item"]


def test_updates_apply_and_refuse_as_moto_does(dynamodb: Any) -> None:
    for expression, names, values in UPDATES:
        fast = updated(dynamodb, expression, names, values)
        with moto_speed.moto_as_it_is():
            assert updated(dynamodb, expression, names, values) == fast, expression


CONDITIONS: list[tuple[str, dict[str, str], dict[str, Any]]] = [
    ("(#n > :low AND (#t = :t AND #m.#p >= :low))", {"#n": "n", "#t": "t", "#m": "m", "#p": "1796083620"},
     {":low": {"N": "1"}, ":t": {"S": "text"}}),
    ("#n > :high", {"#n": "n"}, {":high": {"N": "9"}}),  # false: the transaction is cancelled
    ("attribute_exists (#n) AND attribute_not_exists (#x) AND size(l) = :three", {"#n": "n", "#x": "x"},
     {":three": {"N": "3"}}),
    ("begins_with(t, :te) AND contains(s, :y) AND n BETWEEN :low AND :high AND t IN (:t, :te)", {},
     {":te": {"S": "te"}, ":y": {"S": "y"}, ":low": {"N": "1"}, ":high": {"N": "9"}, ":t": {"S": "text"}}),
    ("NOT (#n <> :five) OR absent < :five", {"#n": "n"}, {":five": {"N": "5"}}),
    ("#n = :five AND", {"#n": "n"}, {":five": {"N": "5"}}),  # not an expression
]  # fmt: skip


def transacted(dynamodb: Any, index: int, condition: str, names: dict[str, str], values: dict[str, Any]) -> Any:
    """A transaction as the ledger writes one: a condition check, a put, and a conditional update
    of an item like a grant; its answer (or cancellation) and the items after it."""
    key, checked = ({"PK": {"S": "speed-tx"}, "SK": {"S": f"{index}{end}"}} for end in ("", "-checked"))
    dynamodb.put_item(TableName=TABLE_NAME, Item=key | ITEM)
    dynamodb.put_item(TableName=TABLE_NAME, Item=checked | ITEM)
    names = names | {"#u": "n"}
    update = {"TableName": TABLE_NAME, "Key": key, "UpdateExpression": "SET #u = #u + :one",
              "ConditionExpression": condition, "ExpressionAttributeNames": names,
              "ExpressionAttributeValues": values | {":one": {"N": "1"}},
              "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}  # fmt: skip
    check = {"TableName": TABLE_NAME, "Key": checked, "ConditionExpression": condition,
             "ExpressionAttributeNames": {k: v for k, v in names.items() if k != "#u"},
             "ExpressionAttributeValues": values} if index % 2 else None  # fmt: skip
    put = {"TableName": TABLE_NAME, "Item": {"PK": {"S": "speed-tx"}, "SK": {"S": f"{index}-new"}},
           "ConditionExpression": "attribute_not_exists (PK)"}  # fmt: skip
    items = [{"Update": update}, {"Put": put}, *([{"ConditionCheck": check}] if check else [])]
    try:
        answer: Any = dynamodb.transact_write_items(TransactItems=items)["ResponseMetadata"]["HTTPStatusCode"]
    except ClientError as refused:
        answer = (refused.response["Error"], refused.response.get("CancellationReasons"))
    except ValueError as unparsed:  # moto's own answer to a condition it cannot parse
        answer = repr(unparsed)
    same_pk = {":pk": {"S": "speed-tx"}}
    after = dynamodb.query(TableName=TABLE_NAME, KeyConditionExpression="PK = :pk", ExpressionAttributeValues=same_pk,
                           ConsistentRead=True)["Items"]  # fmt: skip
    for item in after:
        dynamodb.delete_item(TableName=TABLE_NAME, Key={"PK": item["PK"], "SK": item["SK"]})
    return answer, after


def test_conditions_are_parsed_once_and_decide_as_moto_does(dynamodb: Any) -> None:
    for index, (condition, names, values) in enumerate(CONDITIONS):
        fast = [transacted(dynamodb, index, condition, names, values) for _ in range(2)]  # the second from the cache
        with moto_speed.moto_as_it_is():
            assert transacted(dynamodb, index, condition, names, values) == fast[0] == fast[1], condition


def test_items_are_copied_as_moto_copies_them() -> None:
    item = DynamoType({"M": {"l": {"L": [{"S": "a"}, {"NS": ["1", "2"]}, {"M": {"b": {"BOOL": True}}}]},
                             "n": {"N": "1.50"}, "null": {"NULL": True}}})  # fmt: skip
    fast = copy.deepcopy(item)
    with moto_speed.moto_as_it_is():
        generic = copy.deepcopy(item)
    assert fast.to_json() == generic.to_json() == item.to_json()
    assert fast.value["l"].value[1].value is not item.value["l"].value[1].value  # a set's list is copied
    assert fast.value["l"] is not item.value["l"]


wire_values = st.recursive(
    scalars.map(lambda value: {kind: wire(raw) for kind, raw in value.items()}),
    lambda inner: st.one_of(
        st.builds(lambda m: {"M": m}, st.dictionaries(names, inner, max_size=4)),
        st.builds(lambda items: {"L": items}, st.lists(inner, max_size=4)),
    ),
    max_leaves=20,
)


def wire(raw: Any) -> Any:
    """A value as a request carries it: binary base64-encoded."""
    if isinstance(raw, bytes):
        return base64.b64encode(raw).decode()
    return [wire(element) for element in raw] if isinstance(raw, list) else raw


def parsed(operation: str, request: dict[str, Any]) -> Any:
    model = get_service_model("dynamodb").operation_model(operation)
    return JSONParser(model).parse({"body": json.dumps(request).encode()})  # type: ignore[typeddict-item]


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(names, wire_values, max_size=6))
def test_requests_are_read_as_moto_reads_them(item: dict[str, Any]) -> None:
    requests: list[tuple[str, dict[str, Any]]] = [
        ("PutItem", {"TableName": "t", "Item": item, "ExpressionAttributeValues": item}),
        ("BatchWriteItem", {"RequestItems": {"t": [{"PutRequest": {"Item": item}}, {"DeleteRequest": {"Key": item}}]}}),
        ("TransactWriteItems", {"TransactItems": [{"Update": {"TableName": "t", "Key": item, "UpdateExpression": "x",
                                                              "ExpressionAttributeValues": item}}]}),
    ]  # fmt: skip
    for operation, request in requests:
        fast = parsed(operation, request)
        with moto_speed.moto_as_it_is():
            assert parsed(operation, request) == fast, operation


def test_odd_request_values_are_read_as_moto_reads_them() -> None:
    odds: list[dict[str, Any]] = [
        {"S": "x", "N": "1"}, {"SS": "not a list"}, {"M": None}, {"M": {"x": None}}, {"L": [None]},
        {"X": "unknown"}, {"N": "1", "X": 2}, {"B": "AAEC", "BOOL": False},
    ]  # fmt: skip
    for odd in odds:
        fast = parsed("PutItem", {"TableName": "t", "Item": {"odd": odd}})
        with moto_speed.moto_as_it_is():
            assert parsed("PutItem", {"TableName": "t", "Item": {"odd": odd}}) == fast, odd


def outcome(compute: Any) -> Any:
    try:
        return compute()
    except TypeError as refused:  # moto's own: a map's or a list's cast value cannot be hashed
        return repr(refused)


@settings(max_examples=200, deadline=None)
@given(values, values)
def test_attribute_values_compare_as_moto_compares_them(left: dict[str, Any], right: dict[str, Any]) -> None:
    pairs = [(DynamoType(left), DynamoType(right)), (DynamoType(left), DynamoType(left))]

    def compared() -> list[Any]:
        return [(a == b, a != b, a.cast_value, outcome(lambda: hash(a))) for a, b in pairs]  # noqa: B023

    fast = compared()
    with moto_speed.moto_as_it_is():
        assert compared() == fast
