"""DynamoDB item sizes and capacity units by the documented rules.

Size: attribute names plus values (strings: UTF-8 bytes; numbers: about 1 byte per two significant
digits plus 1; booleans and nulls: 1 byte). A write unit covers 1 KB, a read unit 4 KB (strongly
consistent); transactional reads and writes cost double."""

from __future__ import annotations

import math
from typing import Any


def _value_size(value: dict[str, Any]) -> int:
    kind, raw = next(iter(value.items()))
    if kind == "S":
        return len(raw.encode())
    if kind == "N":
        digits = raw.lstrip("-").replace(".", "").lstrip("0") or "0"
        return math.ceil(len(digits) / 2) + 1
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "M":
        return 3 + sum(len(k.encode()) + _value_size(v) for k, v in raw.items())
    if kind == "L":
        return 3 + sum(_value_size(v) + 1 for v in raw)
    raise ValueError(f"unsupported attribute type {kind}")


def item_size(item: dict[str, dict[str, Any]]) -> int:
    return sum(len(name.encode()) + _value_size(value) for name, value in item.items())


def write_units(size: int, transactional: bool = False) -> int:
    return math.ceil(size / 1024) * (2 if transactional else 1)


def read_units(size: int, transactional: bool = False) -> int:
    return math.ceil(size / 4096) * (2 if transactional else 1)
