"""Opaque pagination cursors for the usage listings and a grant's ledger.

A cursor holds a position (the usage index's sort key of the last record shown, or the last
entry's sequence) and a check over it and the listing it came from: the account, the model filter
and the shard layout the listing reads. A cursor of another listing, or one altered or cut short,
is refused (400 invalid_cursor); the account always comes from the caller, never from a cursor."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Callable
from typing import Any

from ...errors import InvalidCursor

CHECK_BYTES = 9


def listing_scope(*parts: object) -> str:
    """What a cursor is valid for: the listing's account, filter and shard layout."""
    return "\x00".join(str(part) for part in parts)


def _check(scope: str, position: str | int) -> str:
    digest = hashlib.blake2b(f"{scope}\x00{position}".encode(), digest_size=CHECK_BYTES, person=b"trial-cursor")
    return base64.urlsafe_b64encode(digest.digest()).decode()


def _encode(position: str | int, scope: str) -> str:
    document = {"p": position, "c": _check(scope, position)}
    return base64.urlsafe_b64encode(json.dumps(document, separators=(",", ":")).encode()).decode().rstrip("=")


def _decode(cursor: str, scope: str, valid: Callable[[Any], bool]) -> Any:
    """The position a cursor of this listing holds; InvalidCursor for any other cursor."""
    try:
        value = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError) as error:
        raise InvalidCursor() from error
    if not isinstance(value, dict) or set(value) != {"p", "c"} or not isinstance(value["c"], str):
        raise InvalidCursor()
    position = value["p"]
    if not valid(position) or value["c"] != _check(scope, position):
        raise InvalidCursor()
    return position


def encode_usage_cursor(order: str, scope: str) -> str:
    """Resume a usage listing after the record whose index sort key is ``order``."""
    return _encode(order, scope)


def decode_usage_cursor(cursor: str, scope: str) -> str:
    order: str = _decode(cursor, scope, lambda order: isinstance(order, str) and 0 < len(order) <= 300)
    return order


def encode_sequence_cursor(sequence: int, scope: str) -> str:
    """A position in a grant's ledger: after entry ``sequence``."""
    return _encode(sequence, scope)


def decode_sequence_cursor(cursor: str, scope: str) -> int:
    after: int = _decode(
        cursor, scope, lambda after: not isinstance(after, bool) and isinstance(after, int) and 1 <= after < 2**53
    )
    return after
