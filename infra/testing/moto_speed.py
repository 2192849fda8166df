"""Make moto's per-request work cheaper without changing a byte of what it answers.

Used by the tests' in-process moto and by the embedded DynamoDB of the local stack, where moto's own
overhead was most of the server's time (``make test``'s longest test spends its minutes there):

- **Attribute values.** moto (5.1+) serializes every response by walking the botocore model: for
  each of the 10 members of each ``AttributeValue`` (an item's every attribute, every element of a
  map or list) it tries six alias providers. An item image of 2 KB takes milliseconds, and a
  stream's GetRecords carries two per record. ``install()`` serializes a DynamoDB or DynamoDB
  Streams ``AttributeValue`` that is a plain dict of the usual types directly, to what the generic
  walk produces (``tests/ledger/test_moto_speed.py`` compares the two); anything else (an unknown
  member, an unusual type, a response transformer registered) still takes the generic walk.
  A request's attribute values are read the same way: each of the ten members looked up through
  the model's parser took most of a BatchWriteItem's time.
- **Update expressions and conditions** (``infra/testing/moto_expressions.py``): parsed once,
  walked and copied cheaply.
- **Per request.** moto's server lists its package directory (``os.listdir`` and an ``isdir`` per
  service, about 200) to find the backend by host, and lists a handler's methods with
  ``inspect.getmembers``, on every request; neither changes while the process runs, so each is
  read once.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from enum import Enum
from typing import Any

import moto.backends as moto_backends
import moto.core.responses as moto_responses
from moto.core.parse import BaseJSONParser
from moto.core.serialize import BaseJSONSerializer

from infra.testing import moto_expressions as expressions

SERVICES = frozenset({"dynamodb", "dynamodbstreams"})
"""The services whose ``AttributeValue`` shape is DynamoDB's (the same name in both models)."""


class _Unusual(Exception):
    """A value the fast path does not handle: the generic walk serializes it."""


def _string(raw: Any) -> Any:
    """As moto's ``_serialize_type_string``."""
    if isinstance(raw, Enum):
        raw = raw.value
    if not isinstance(raw, str):
        raise _Unusual
    return raw


def _strings(raw: Any, blob: Callable[[Any], str]) -> list[Any]:
    if not isinstance(raw, list):
        raise _Unusual
    return [_string(element) for element in raw]


def _map(raw: Any, blob: Callable[[Any], str]) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise _Unusual
    return {name: attribute_value(element, blob) for name, element in raw.items()}


def _list(raw: Any, blob: Callable[[Any], str]) -> list[Any]:
    if not isinstance(raw, list):
        raise _Unusual
    return [attribute_value(element, blob) for element in raw]


def _boolean(raw: Any, blob: Callable[[Any], str]) -> bool:
    if not isinstance(raw, bool):
        raise _Unusual
    return raw


def _binary(raw: Any, blob: Callable[[Any], str]) -> str:
    if not isinstance(raw, bytes | str):
        raise _Unusual
    return blob(raw)


def _binaries(raw: Any, blob: Callable[[Any], str]) -> list[str]:
    if not isinstance(raw, list):
        raise _Unusual
    return [_binary(element, blob) for element in raw]


MEMBERS: dict[str, Callable[[Any, Callable[[Any], str]], Any]] = {
    "S": lambda raw, blob: _string(raw), "N": lambda raw, blob: _string(raw), "SS": _strings, "NS": _strings,
    "B": _binary, "BS": _binaries, "M": _map, "L": _list, "BOOL": _boolean, "NULL": _boolean,
}  # fmt: skip
"""How each member of DynamoDB's ``AttributeValue`` is written."""


def attribute_value(value: Any, blob: Callable[[Any], str]) -> dict[str, Any]:
    """An ``AttributeValue`` as moto's JSON serializer writes it: only the members of the shape
    that are present and not None, strings as they are, blobs base64-encoded by ``blob``."""
    if not isinstance(value, dict):
        raise _Unusual
    out: dict[str, Any] = {}
    for kind, raw in value.items():
        if raw is not None:
            if (write := MEMBERS.get(kind)) is None:
                raise _Unusual
            out[kind] = write(raw, blob)
    return out


def _fast_structure(original: Callable[..., None]) -> Callable[..., None]:
    @functools.wraps(original)
    def serialize_structure(self: BaseJSONSerializer, serialized: Any, value: Any, shape: Any, key: str) -> None:
        if (
            key
            and value is not None
            and shape.name == "AttributeValue"
            and self.service_model.service_name in SERVICES
            and not getattr(self._value_picker, "response_transformers", None)
        ):
            try:
                converted = attribute_value(value, self._base64)
            except _Unusual:
                pass
            else:
                self._default_serialize(serialized, converted, shape, key)
                return
        original(self, serialized, value, shape, key)

    return serialize_structure


MEMBER_ORDER = ("S", "N", "B", "SS", "NS", "BS", "M", "L", "NULL", "BOOL")
"""The members of ``AttributeValue`` in the model's order, the order moto parses them in."""


def parsed_attribute_value(value: Any, blob: Callable[[Any], Any]) -> dict[str, Any]:
    """An ``AttributeValue`` of a request as moto's JSON parser reads it: each member of the
    shape present and not None, strings and booleans as they are, blobs decoded by ``blob``."""
    if type(value) is not dict:
        raise _Unusual
    out: dict[str, Any] = {}
    for kind in value if len(value) == 1 else [kind for kind in MEMBER_ORDER if kind in value]:
        raw = value[kind]
        if raw is None or kind not in MEMBER_ORDER:
            continue
        if kind in ("S", "N", "NULL", "BOOL"):
            out[kind] = raw
        elif kind == "B":
            out[kind] = blob(raw)
        elif kind == "M":
            if type(raw) is not dict:
                raise _Unusual
            out[kind] = {name: parsed_attribute_value(element, blob) for name, element in raw.items()}
        elif type(raw) is not list:
            raise _Unusual
        elif kind == "L":
            out[kind] = [parsed_attribute_value(element, blob) for element in raw]
        else:  # a set: its elements strings, or blobs
            out[kind] = [blob(element) for element in raw] if kind == "BS" else list(raw)
    return out


def _fast_parse(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def parse_structure(self: BaseJSONParser, shape: Any, value: Any) -> Any:
        if shape.name == "AttributeValue" and self.operation_model.service_model.service_name in SERVICES:
            try:
                return parsed_attribute_value(value, self._blob_parser)
            except _Unusual:
                pass
        return original(self, shape, value)

    return parse_structure


def _patches() -> list[tuple[Any, str, Any]]:
    """Each patch: where, what name, the new value (built from moto's own where it wraps it)."""
    modules: tuple[str, ...] = tuple(moto_backends.list_of_moto_modules())

    def list_of_moto_modules() -> Iterable[str]:
        return iter(modules)

    serialize_structure = _fast_structure(BaseJSONSerializer._serialize_type_structure)
    return [
        (BaseJSONSerializer, "_serialize_type_structure", serialize_structure),
        (BaseJSONParser, "_parse_structure", _fast_parse(BaseJSONParser._parse_structure)),
        (moto_backends, "list_of_moto_modules", list_of_moto_modules),
        (moto_responses, "method_names_from_class", functools.cache(vars(moto_responses)["method_names_from_class"])),
        *expressions.patches(),
    ]  # fmt: skip


_ABSENT = object()
_INSTALLED: list[tuple[Any, str, Any, Any]] = []
"""(where, name, moto's own value or _ABSENT, ours) of each patch installed."""


def install() -> None:
    """Patch moto in this process; idempotent."""
    if _INSTALLED:
        return
    for where, name, ours in _patches():
        _INSTALLED.append((where, name, vars(where).get(name, _ABSENT), ours))
        setattr(where, name, ours)


@contextmanager
def moto_as_it_is() -> Iterator[None]:
    """moto without these patches, for the tests that compare the two (not thread-safe)."""
    for where, name, original, _ in _INSTALLED:
        if original is _ABSENT:
            delattr(where, name)
        else:
            setattr(where, name, original)
    try:
        yield
    finally:
        for where, name, _, ours in _INSTALLED:
            setattr(where, name, ours)
