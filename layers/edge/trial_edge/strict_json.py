"""Parse a request body as the contract reads JSON (section 3): RFC 8259 and nothing it leaves open.

- ``NaN`` and ``Infinity`` are not JSON: refused.
- An object that repeats a key, at any depth, is refused (``RepeatedKey``): RFC 8259 leaves its
  meaning open, Python keeps the last value, and anything in front of the service that keeps the
  first (a WAF, a gateway plugin, a log pipeline) would disagree with what was charged.
- An integer with more digits than any number of the contract is kept as an ``OutOfRange`` marker,
  not converted: Python refuses to convert integers of over 4,300 digits (a ``ValueError`` that
  reads as malformed JSON), and no such integer can be valid anywhere. Validation then refuses it
  where it stands: a field of a body, or a record of a batch in its place.

The body guard and the resolvers' ``json_body_deserializer`` both parse with ``loads``, so what the
guard accepted is what the routes validate. Plain Python: the local stack may import it too."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from trial_ledger.limits import MAX_QUANTITY

MAX_INTEGER_DIGITS = len(str(MAX_QUANTITY))
"""No number of the contract has more digits than the largest quantity."""
MAX_KEY_SHOWN = 40
"""A repeated key is named in the problem's detail, cut to this many characters."""


@dataclass(frozen=True, slots=True)
class OutOfRange:
    """Stands in for an integer literal too long to be any number of the contract."""

    digits: int

    def describe(self) -> str:
        return f"out of range: {self.digits} digits, and no number here exceeds {MAX_QUANTITY:,}"


class RepeatedKey(json.JSONDecodeError):
    """An object of the document names the same key twice. A ``JSONDecodeError``, so that whatever
    parses with ``loads`` reads it as the malformed JSON it is."""

    def __init__(self, key: str, document: str) -> None:
        shown = key if len(key) <= MAX_KEY_SHOWN else key[:MAX_KEY_SHOWN] + "..."
        super().__init__(f"an object repeats the key {json.dumps(shown)}", document, 0)
        self.key = key


class _Repeated(Exception):
    def __init__(self, key: str) -> None:
        self.key = key


def parse_int(literal: str) -> int | OutOfRange:
    if len(literal) <= MAX_INTEGER_DIGITS:  # the usual case, first: this runs for every integer
        return int(literal)
    digits = len(literal.lstrip("-"))
    return OutOfRange(digits) if digits > MAX_INTEGER_DIGITS else int(literal)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    document = dict(pairs)
    if len(document) != len(pairs):  # the usual case costs one comparison
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _Repeated(key)
            seen.add(key)
    return document


def loads(text: str | bytes | bytearray) -> Any:
    """The JSON document ``text`` (bytes are UTF-8). ``ValueError`` when it is not JSON by RFC
    8259, ``RepeatedKey`` when an object repeats a key; ``RecursionError`` when it nests too deep
    for the parser (the body guard answers that one)."""
    if not isinstance(text, str):
        text = bytes(text).decode("utf-8")
    try:
        return json.loads(text, object_pairs_hook=_object, parse_constant=_reject_constant, parse_int=parse_int)
    except _Repeated as repeated:
        raise RepeatedKey(repeated.key, text) from None


def out_of_range_message(issue: Mapping[str, Any]) -> str | None:
    """What a validation issue about an ``OutOfRange`` value should say, or None for any other
    issue. An unknown field is still reported as unknown, whatever its value."""
    value = issue.get("input")
    if isinstance(value, OutOfRange) and issue.get("type") != "extra_forbidden":
        return value.describe()
    return None
