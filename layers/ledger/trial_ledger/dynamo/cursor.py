"""Opaque pagination cursors for the usage listings and a grant's ledger.

A cursor holds only a position (the sort key and request id of the last item shown); the
account and the filter always come from the caller, so a cursor cannot reach another account."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from ..domain.state import UsageRecord
from ..errors import InvalidRequest
from .items import UsageItem
from .keys import CALL_SORT_KEY, USAGE_KEY_PREFIX, call_key, is_usage_order_of, usage_order


def encode_cursor(order: str, request_id: str) -> str:
    raw = json.dumps([order, request_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[str, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value = json.loads(raw)
    except (binascii.Error, ValueError) as error:
        raise InvalidRequest("cursor is not one this service issued", field="cursor") from error
    if (
        not isinstance(value, list)
        or len(value) != 2
        or not all(isinstance(part, str) and 0 < len(part) <= 300 for part in value)
        or not is_usage_order_of(value[0], value[1])
    ):
        raise InvalidRequest("cursor is not one this service issued", field="cursor")
    return value[0], value[1]


def encode_sequence_cursor(sequence: int) -> str:
    """A position in a grant's ledger: after entry ``sequence``."""
    raw = json.dumps({"after": sequence}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_sequence_cursor(cursor: str) -> int:
    try:
        value = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError) as error:
        raise InvalidRequest("cursor is not one this service issued", field="cursor") from error
    after = value.get("after") if isinstance(value, dict) and len(value) == 1 else None
    if isinstance(after, bool) or not isinstance(after, int) or not 1 <= after < 2**53:
        raise InvalidRequest("cursor is not one this service issued", field="cursor")
    return after


def usage_index_start(account_id: str, after: tuple[str, str]) -> dict[str, Any]:
    """The exclusive start key of a usage index query: just after ``(usage_order, request_id)``."""
    order, request_id = after
    return {
        UsageItem.pk.attr_name: {"S": call_key(request_id)},
        UsageItem.sk.attr_name: {"S": CALL_SORT_KEY},
        UsageItem.usage_order.attr_name: {"S": order},
        UsageItem.usage_account.attr_name: {"S": account_id},
    }


def usage_position(record: UsageRecord) -> tuple[str, str]:
    """Where a listing resumes after ``record``."""
    return usage_order(record.recorded_at, record.request_id), record.request_id


def usage_position_of_key(key: dict[str, Any]) -> tuple[str, str]:
    """Where a listing resumes after the index item a Query evaluated last."""
    return key[UsageItem.usage_order.attr_name]["S"], key[UsageItem.pk.attr_name]["S"].removeprefix(USAGE_KEY_PREFIX)
