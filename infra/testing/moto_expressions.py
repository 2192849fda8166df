"""moto's expression and item work made cheaper, the same answers (installed by moto_speed).

Update expressions. moto parses an UpdateExpression twice per update (the handler checks
its names, the backend applies it) and its validator deep-copies the tree with ``copy``'s
generic reduce protocol, then walks it once per check, rebuilding each walker's table of node
types at every node. A parsed expression is kept by its text (moto never changes one: its
validator works on its own copy), a tree is copied node by node, a walker's table is built
once per walker, and a node's type tests (``isinstance`` of ``ABCMeta`` classes, millions per
run) are answered from the class, remembered.

Conditions and copies. A transaction's condition is parsed three times (the handler, the
backend's check, the update); the last 512 parsed are kept by text, names and values. An item
is deep-copied for each write (the stream's old image, the transaction's snapshots): its
attribute values are copied by one function rather than through ``copy.deepcopy`` each.

Comparisons. Every comparison of attribute values (a condition, a key, each item of an index
query: moto reads the whole table for one) computes both sides' ``cast_value`` through five
type tests; a number or a string is now told first.
"""

from __future__ import annotations

import copy
import functools
import json
from collections import OrderedDict
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from moto.dynamodb.comparisons import ConditionExpressionParser
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.parsing.ast_nodes import (  # type: ignore[attr-defined]
    DepthFirstTraverser,
    Expression,
    Node,
    UpdateExpressionFunction,
)
from moto.dynamodb.parsing.expressions import UpdateExpressionParser  # type: ignore[attr-defined]


def copy_node(node: Node, memo: dict[int, Any]) -> Node:
    """``copy.deepcopy`` of an expression's node, as its reduce protocol would copy it (a new
    instance of the class, its attributes deep-copied through the same memo), without the protocol."""
    cls: Any = type(node)
    copied = cls.__new__(cls)
    memo[id(node)] = copied
    attributes = copied.__dict__
    for name, value in node.__dict__.items():
        if value is None or type(value) is str:
            attributes[name] = value
        elif type(value) is list and id(value) not in memo:
            elements: list[Any] = []
            memo[id(value)] = elements
            elements.extend(copy.deepcopy(element, memo) for element in value)
            attributes[name] = elements
        else:
            attributes[name] = copy.deepcopy(value, memo)
    return copied


_SUBCLASSES: dict[tuple[type, type | tuple[type, ...]], bool] = {}


def _is(cls: type, bases: type | tuple[type, ...]) -> bool:
    """``issubclass``, remembered: what ``isinstance`` answers for an instance of ``cls``. moto's
    node classes are ``ABCMeta`` classes, whose ``isinstance`` goes through the ABC machinery at
    every call; none has a virtual subclass, so the answer depends on the class alone."""
    try:
        return _SUBCLASSES[cls, bases]
    except KeyError:
        answer = _SUBCLASSES[cls, bases] = issubclass(cls, bases)
        return answer


_NESTING = (Expression, UpdateExpressionFunction)


def _find_clauses(self: Node, clause_types: list[type]) -> list[Node]:
    """moto's ``Node.find_clauses``: the children of exactly these types, and those nested in an
    expression or a function, in order."""
    clauses: list[Node] = []
    for child in self.children or []:
        if type(child) in clause_types:
            clauses.append(child)
        elif _is(type(child), _NESTING):
            clauses.extend(child.find_clauses(clause_types))
    return clauses


def _processing_map(self: DepthFirstTraverser) -> dict[type, Callable[[Node], Node]]:
    table: dict[type, Callable[[Node], Node]] | None = self.__dict__.get("_speed_map")
    if table is None:
        table = self.__dict__["_speed_map"] = type(self)._processing_map(self)
    return table


def _nodes_to_be_processed(self: DepthFirstTraverser) -> tuple[type, ...]:
    types: tuple[type, ...] | None = self.__dict__.get("_speed_types")
    if types is None:
        types = self.__dict__["_speed_types"] = tuple(_processing_map(self))
    return types


def _process(self: DepthFirstTraverser, node: Node) -> Node | None:
    for class_key, processor in _processing_map(self).items():
        if _is(type(node), class_key):
            return processor(node)
    return None


def _traverse_node_recursively(self: DepthFirstTraverser, node: Any, child_id: int = -1) -> Any:
    """moto's depth-first walk (children first, then the node if the walker processes its type,
    put back in its parent's place), with the type tests remembered."""
    if _is(type(node), Node):
        parent_node = node.parent
        if node.children is not None:
            for index, child_node in enumerate(node.children):
                self.pre_processing_of_child(node, index)
                self.traverse_node_recursively(child_node, index)
        if _is(type(node), self.nodes_to_be_processed()):
            node = self.process(node)
            node.parent = parent_node
            if parent_node:
                parent_node.children[child_id] = node
    return node


def _parsed_once(parse: Callable[[type, str], Node]) -> Any:
    """``UpdateExpressionParser.make``, each text parsed once (an error is raised again each time)."""
    cached = functools.lru_cache(maxsize=1024)(lambda expression: parse(UpdateExpressionParser, expression))

    def make(cls: type, expression: str) -> Node:
        return cached(expression) if cls is UpdateExpressionParser else parse(cls, expression)

    return classmethod(make)


CONDITIONS_KEPT = 512


def _condition_key(parser: ConditionExpressionParser) -> tuple[Any, ...] | None:
    """What a condition's parse depends on, as a key; None if a value cannot be one."""
    try:
        return (parser.condition_expression, json.dumps(parser.expression_attribute_names, sort_keys=True),
                json.dumps(parser.expression_attribute_values, sort_keys=True))  # fmt: skip
    except (TypeError, ValueError):
        return None


def _parsed_conditions(parse: Callable[[ConditionExpressionParser], Any]) -> Callable[[ConditionExpressionParser], Any]:
    """``ConditionExpressionParser.parse``, remembered for the last conditions by their text,
    names and values: moto parses a transaction's condition three times (the handler for the
    names it uses, the backend before the write, the update again). The parsed condition is
    only ever evaluated, never changed; the names and values it found are given back as well."""
    kept: OrderedDict[tuple[Any, ...], tuple[Any, list[str], list[str]]] = OrderedDict()

    @functools.wraps(parse)
    def parse_once(self: ConditionExpressionParser) -> Any:
        key = _condition_key(self)
        if key is None:
            return parse(self)
        if (found := kept.get(key)) is None:
            condition = parse(self)
            kept[key] = (condition, list(self.expr_attr_names_found), list(self.expr_attr_values_found))
            if len(kept) > CONDITIONS_KEPT:
                kept.popitem(last=False)
            return condition
        kept.move_to_end(key)
        condition, names, values = found
        self.expr_attr_names_found.extend(names)
        self.expr_attr_values_found.extend(values)
        return condition

    return parse_once


def copy_dynamo_type(value: DynamoType, memo: dict[int, Any]) -> DynamoType:
    """moto's ``DynamoType.__deepcopy__`` (a list's and a map's elements copied, a set's list
    copied, anything else shared), its elements copied by this function directly rather than
    through ``copy.deepcopy``'s dispatch."""
    if (done := memo.get(id(value))) is not None:
        return done  # type: ignore[no-any-return]
    copied = DynamoType.__new__(DynamoType)
    memo[id(value)] = copied
    copied.type = kind = value.type
    if kind == "L":
        copied.value = [_copy_element(element, memo) for element in value.value]
    elif kind == "M":
        copied.value = {name: _copy_element(element, memo) for name, element in value.value.items()}
    elif kind in ("SS", "NS", "BS"):
        copied.value = list(value.value)
    else:
        copied.value = value.value
    return copied


def _copy_element(element: Any, memo: dict[int, Any]) -> Any:
    return copy_dynamo_type(element, memo) if type(element) is DynamoType else copy.deepcopy(element, memo)


PLAIN = ("S", "B", "BOOL")
"""The types whose ``cast_value`` is their value as stored."""
_MOTO_CAST_VALUE: Any = vars(DynamoType)["cast_value"]


def _cast_value(self: DynamoType) -> Any:
    """moto's ``DynamoType.cast_value``, its two commonest cases first (a number, a string): it
    is what every comparison of a condition, a key or an index query computes, on both sides."""
    kind = self.type
    if kind == "N":
        return Decimal(self.value)
    if kind in PLAIN:
        return self.value
    return _MOTO_CAST_VALUE.fget(self)


def _equal(self: DynamoType, other: DynamoType) -> bool:
    """moto's ``DynamoType.__eq__``: the same type, and equal cast values."""
    if self.type != other.type:
        return False
    return bool(self.value == other.value if self.type in PLAIN else self.cast_value == other.cast_value)


def _not_equal(self: DynamoType, other: DynamoType) -> bool:
    return self.type != other.type or (self.value != other.value if self.type in PLAIN
                                       else self.cast_value != other.cast_value)  # fmt: skip


def patches() -> list[tuple[Any, str, Any]]:
    """(where, what name, the new value) of each patch of this module, for moto_speed.install."""
    return [
        (UpdateExpressionParser, "make", _parsed_once(UpdateExpressionParser.make.__func__)),
        (Node, "__deepcopy__", copy_node),
        (Node, "find_clauses", _find_clauses),
        (DepthFirstTraverser, "nodes_to_be_processed", _nodes_to_be_processed),
        (DepthFirstTraverser, "process", _process),
        (DepthFirstTraverser, "traverse_node_recursively", _traverse_node_recursively),
        (ConditionExpressionParser, "parse", _parsed_conditions(ConditionExpressionParser.parse)),
        (DynamoType, "__deepcopy__", copy_dynamo_type),
        (DynamoType, "cast_value", property(_cast_value)),
        (DynamoType, "__eq__", _equal),
        (DynamoType, "__ne__", _not_equal),
    ]
