"""Make moto's TransactWriteItems cost O(items in the transaction) instead of O(table).

moto backs each transaction up by deep-copying every table it touches, so one transaction on a
20,000-item table takes about a second. ``install()`` makes it snapshot only the items the
transaction names and restore exactly those on failure: the same all-or-nothing behaviour
(moto keeps items only in ``Table.items``; its indexes are computed from them at query time).
A cancelled transaction also leaves no record in the table's stream, as in DynamoDB: moto adds
one per write as it applies it, and its table copy used to take them back with the items.
Used by the tests and by the embedded DynamoDB of the local stack."""

from __future__ import annotations

import copy
from typing import Any

import moto.dynamodb.models as moto_models
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.table import Table

_Snapshot = tuple[Table, DynamoType, DynamoType | None, Any]


class _TablesNotCopied:
    """What moto's module sees as ``copy``: tables pass through, anything else is deep-copied."""

    @staticmethod
    def deepcopy(value: Any, memo: dict[int, Any] | None = None) -> Any:
        return value if isinstance(value, Table) else copy.deepcopy(value, memo)


def snapshot(backend: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> list[_Snapshot]:
    """A copy of each item the transaction's entries name (``None`` where there is none yet)."""
    taken: list[_Snapshot] = []
    for entry in transact_items:
        operation, request = next(iter(entry.items()))
        table = backend.tables.get(request.get("TableName"))
        if table is None:
            continue
        key = request["Item"] if operation == "Put" else request["Key"]
        hash_value = DynamoType(key[table.hash_key_attr])
        range_value = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
        taken.append((table, hash_value, range_value, copy.deepcopy(table.get_item(hash_value, range_value))))
    return taken


def stream_lengths(snapshots: list[_Snapshot]) -> list[tuple[Any, int]]:
    shards = {id(table.stream_shard): table.stream_shard for table, *_ in snapshots if table.stream_shard is not None}
    return [(shard, len(shard.items)) for shard in shards.values()]


def restore(snapshots: list[_Snapshot], lengths: list[tuple[Any, int]]) -> None:
    """Put the items back as ``snapshot`` took them, then drop every stream record added since
    (moto's own delete of an item the write had created adds one too)."""
    for table, hash_value, range_value, item in reversed(snapshots):
        if item is None:
            if table.get_item(hash_value, range_value) is not None:
                table.delete_item(hash_value, range_value)
        elif range_value is not None:
            table.items[hash_value][range_value] = item
        else:
            table.items[hash_value] = item
    for shard, length in lengths:
        del shard.items[length:]  # the records of writes that never committed


def install() -> None:
    """Patch moto in this process; idempotent."""
    if getattr(DynamoDBBackend.transact_write_items, "_item_snapshots", False):
        return
    original = DynamoDBBackend.transact_write_items

    def transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
        snapshots = snapshot(self, transact_items)
        lengths = stream_lengths(snapshots)
        try:
            original(self, transact_items)
        except Exception:
            restore(snapshots, lengths)
            raise

    transact_write_items._item_snapshots = True  # type: ignore[attr-defined]
    setattr(moto_models, "copy", _TablesNotCopied)  # noqa: B010 (moto does not export the name)
    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
