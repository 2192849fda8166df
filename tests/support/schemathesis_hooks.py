"""Schemathesis hooks of the suite's run (``tests/local/test_schemathesis.py`` loads this module
through ``SCHEMATHESIS_HOOKS``): bodies carry integers as integer literals, as clients send them.

OpenAPI 3.1's JSON Schema (2020-12) counts ``4307.0`` as an integer, and Schemathesis sends such
whole floats for ``type: integer``; the contract's bodies take integer literals only (docs/api.md:
``10.0`` is not a quantity, and ``1000000000.0000001`` must never be read as 1,000,000,000). No JSON
Schema keyword can tell ``10`` from ``10.0``, so the document says it in words and the run spells
whole floats as the integers they are: positive-data acceptance then tests everything else."""

from __future__ import annotations

from typing import Any

import schemathesis


def as_integer_literals(value: Any) -> Any:
    """``value`` with every whole float (``4307.0``) written as an integer, at any depth."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {key: as_integer_literals(item) for key, item in value.items()}
    if isinstance(value, list):
        return [as_integer_literals(item) for item in value]
    return value


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    if isinstance(case.body, dict | list):
        case.body = as_integer_literals(case.body)
