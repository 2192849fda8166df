"""JSON within the contract's bounds: how deep a body nests and how long its integers are.

Parsing further a body nested thousands of levels deep fails outside every error handler
(``RecursionError``), and Python refuses to convert integers of over 4,300 digits (a
``ValueError`` that reads as malformed JSON), so both are caught while the body guard parses it:
``parse_int`` stands in a marker for an integer longer than any number of the contract, and the
walks below find it, or nesting past ``MAX_DEPTH``, with the field it is in."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from trial_edge.problems import field_path
from trial_edge.response_models import FieldError
from trial_ledger.limits import MAX_QUANTITY

MAX_DEPTH = 32
"""Levels of nesting, the top-level object being the first; the contract's bodies use two."""
MAX_INTEGER_DIGITS = len(str(MAX_QUANTITY))
"""No number of the contract has more digits than the largest quantity."""


@dataclass(frozen=True, slots=True)
class OutOfRange:
    """Stands in for an integer literal too long to be any number of the contract."""

    digits: int


def parse_int(literal: str) -> int | OutOfRange:
    if len(literal) <= MAX_INTEGER_DIGITS:  # the usual case, first: this runs for every integer
        return int(literal)
    digits = len(literal.lstrip("-"))
    return OutOfRange(digits) if digits > MAX_INTEGER_DIGITS else int(literal)


def _children(value: Any) -> Any:
    return value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()


def is_out_of_bounds(document: dict[str, Any]) -> bool:
    """Whether the body nests deeper than MAX_DEPTH or holds an out-of-range integer: one pass per
    level, no paths, so that a large body that is within bounds costs little."""
    level: list[Any] = [document]
    for _ in range(MAX_DEPTH):
        level = [child for value in level for child in _children(value) if isinstance(child, dict | list | OutOfRange)]
        if any(isinstance(value, OutOfRange) for value in level):
            return True
    return bool(level)


def too_deep(location: tuple[str | int, ...]) -> FieldError:
    return FieldError(field=field_path(location), message=f"nested deeper than {MAX_DEPTH} levels")


def first_out_of_bounds(document: dict[str, Any]) -> FieldError:
    """Where the body is out of bounds: the first such value in document order."""
    pending: list[tuple[tuple[str | int, ...], Any]] = [((), document)]
    while pending:
        location, value = pending.pop()
        if isinstance(value, OutOfRange):
            message = f"out of range: {value.digits} digits, and no number here exceeds {MAX_QUANTITY:,}"
            return FieldError(field=field_path(location), message=message)
        if len(location) >= MAX_DEPTH:
            return too_deep(location)
        children = value.items() if isinstance(value, dict) else enumerate(value)
        nested = [((*location, key), child) for key, child in children if isinstance(child, dict | list | OutOfRange)]
        pending.extend(reversed(nested))
    raise AssertionError("called for a body within bounds")
