"""moto's short cuts (infra/testing/moto_speed.py) answer exactly what moto's generic serializer
answers: item images of every attribute type, through DynamoDB's and DynamoDB Streams' operations;
and values the short cut does not know still take the generic walk."""

from __future__ import annotations

import base64
import copy
import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from moto.core.responses import ActionResult
from moto.core.serialize import BaseJSONSerializer, JSONSerializer, XFormedAttributePicker
from moto.core.utils import get_service_model
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.utilities import dynamo_to_dict
from moto.dynamodb.parsing.ast_nodes import Node  # type: ignore[attr-defined]
from moto.dynamodb.parsing.expressions import UpdateExpressionParser  # type: ignore[attr-defined]

from infra.testing import moto_speed

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


def test_expression_trees_are_copied_as_deepcopy_copies_them() -> None:
    for expression in EXPRESSIONS:
        tree = UpdateExpressionParser.make(expression)
        assert UpdateExpressionParser.make(expression) is tree  # parsed once
        fast = copy.deepcopy(tree)
        del Node.__deepcopy__  # copy's generic reduce protocol
        try:
            generic = copy.deepcopy(tree)
        finally:
            Node.__deepcopy__ = moto_speed.copy_node
        assert shape(fast) == shape(generic) == shape(tree)
        assert fast is not tree
        assert fast.children[0] is not tree.children[0]
