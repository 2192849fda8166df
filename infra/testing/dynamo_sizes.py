"""DynamoDB's item size: what its 400 KB limit and its capacity units are measured on.

An item's size is the sum of its attributes' names (UTF-8 bytes) and values: a string its UTF-8
bytes, a binary its raw bytes, a number 1 byte plus 1 per two significant digits (``number_size``),
a boolean or null 1 byte, a set the sum of its elements, a list or map 3 bytes plus, per element,
1 byte, its value and (in a map) its name. Works on attribute values as sent (DynamoDB JSON) and
on the items moto keeps."""

from __future__ import annotations

import math
from base64 import b64decode
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from moto.dynamodb.models.dynamo_type import DynamoType, Item


def number_size(text: str) -> int:
    """1 byte, plus one per two significant digits on each side of the point, plus 1 if negative.

    The documented "1 byte per two significant digits, plus 1" made exact as DynamoDB measures it
    (accept/refuse pairs at the 400 KB limit): leading and trailing zeros and the exponent are not
    counted, and digits either side of the point are counted in pairs separately."""
    try:
        sign, digits, exponent = Decimal(text).as_tuple()
    except InvalidOperation:
        return len(text.encode())  # not a number: moto refuses it after the guard
    kept, shift = list(digits), exponent if isinstance(exponent, int) else 0
    while kept and kept[-1] == 0:
        kept.pop()
        shift += 1
    while kept and kept[0] == 0:
        kept.pop(0)
    if not kept:
        return 1
    whole, fraction = max(0, min(len(kept), len(kept) + shift)), max(0, min(len(kept), -shift))
    return 1 + math.ceil(whole / 2) + math.ceil(fraction / 2) + (1 if sign else 0)


def binary_size(raw: bytes | str) -> int:
    return len(raw) if isinstance(raw, bytes) else len(b64decode(raw))


SCALARS: dict[str, Callable[[Any], int]] = {
    "S": lambda raw: len(raw.encode()),
    "N": number_size,
    "B": binary_size,
    "BOOL": lambda raw: 1,
    "NULL": lambda raw: 1,
}


def value_size(value: dict[str, Any] | DynamoType) -> int:
    """An attribute value's size (its name not included), as sent or as moto keeps it."""
    kind: str
    raw: Any
    kind, raw = (value.type, value.value) if isinstance(value, DynamoType) else next(iter(value.items()), ("", None))
    if kind in SCALARS:
        return SCALARS[kind](raw)
    if kind == "M":  # 3 bytes of its own, and 1 per element besides the element's name and value
        return 3 + sum(1 + len(name.encode()) + value_size(element) for name, element in raw.items())
    if kind == "L":
        return 3 + sum(1 + value_size(element) for element in raw)
    if kind in ("SS", "NS", "BS"):
        return sum(SCALARS[kind[0]](element) for element in raw)
    return 0  # not an attribute value: moto refuses it after the guard


def item_size(item: dict[str, Any]) -> int:
    """The sum of the attributes' names (UTF-8 bytes) and values, as DynamoDB sizes an item."""
    return sum(len(name.encode()) + value_size(value) for name, value in item.items())


def stored_size(item: Item) -> int:
    """``item_size`` of an item as moto keeps it."""
    return sum(len(name.encode()) + value_size(value) for name, value in item.attrs.items())
