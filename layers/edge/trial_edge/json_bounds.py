"""How deep a body may nest: a bound on the whole body, checked by the body guard.

A body nested thousands of levels deep makes the parser raise ``RecursionError`` (the guard
catches it), and one nested a little less would make every later walk over it deep and slow; so
past ``MAX_DEPTH`` the whole body is refused, naming the field where the bound is crossed. (Integers
too long for any number are another matter: ``trial_edge.strict_json`` keeps them as markers that
validation refuses where they stand.)"""

from __future__ import annotations

from typing import Any

from trial_edge.problems import field_path
from trial_edge.schemas.common import FieldError

MAX_DEPTH = 32
"""Levels of nesting, the top-level object being the first; the contract's bodies use two."""


def _containers(value: Any) -> Any:
    children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    return (child for child in children if isinstance(child, dict | list))


def is_too_deep(document: dict[str, Any]) -> bool:
    """Whether the body nests deeper than MAX_DEPTH: one pass per level, no paths, so that a large
    body within the bound costs little."""
    level: list[Any] = [document]
    for _ in range(MAX_DEPTH):
        level = [child for value in level for child in _containers(value)]
        if not level:
            return False
    return True


def too_deep(location: tuple[str | int, ...]) -> FieldError:
    return FieldError(field=field_path(location), message=f"nested deeper than {MAX_DEPTH} levels")


def first_too_deep(document: dict[str, Any]) -> FieldError:
    """Where the body crosses the bound: the first such place in document order."""
    pending: list[tuple[tuple[str | int, ...], Any]] = [((), document)]
    while pending:
        location, value = pending.pop()
        if len(location) >= MAX_DEPTH:
            return too_deep(location)
        children = value.items() if isinstance(value, dict) else enumerate(value)
        nested = [((*location, key), child) for key, child in children if isinstance(child, dict | list)]
        pending.extend(reversed(nested))
    raise AssertionError("called for a body within bounds")
