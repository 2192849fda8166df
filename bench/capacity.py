"""Write units and per-partition load of the items an operation wrote, by DynamoDB's billing rules.

Table item: the larger of its sizes before and after the write, one unit per started KB, doubled
in a transaction; a transaction's ConditionCheck is billed so too (DynamoDB Developer Guide,
"Capacity management for transactions": every item of a transaction is read or written twice).
Global secondary index: an item is in it when it has the index's key attributes,
and its entry there is the projection. A write puts the entry (one unit per started KB of it) when
the item enters the index or a projected attribute changes, deletes it (one unit) when the item
leaves, and does both when an index key changes; a write that changes nothing the index projects
costs the index nothing. Index writes are counted at the standard rate, also in a transaction.
Sizes are DynamoDB's (``infra/testing/dynamo_sizes.py``, the rules its 400 KB guard applies too)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from infra.testing.dynamo_meter import ItemWrite, RawItem
from infra.testing.dynamo_sizes import item_size

TABLE = "table"
"""The base table's label in a breakdown; indexes go by their names."""


def write_units(size: int, transactional: bool = False) -> int:
    """Units to write an item of ``size`` bytes (``item_size``): 1 per started KB, 2 in a transaction."""
    return math.ceil(size / 1024) * (2 if transactional else 1)


def read_units(size: int, transactional: bool = False) -> int:
    """Units of a strongly consistent read of ``size`` bytes: 1 per started 4 KB, 2 in a transaction."""
    return math.ceil(size / 4096) * (2 if transactional else 1)


@dataclass(frozen=True, slots=True)
class IndexSpec:
    name: str
    key_names: tuple[str, ...]
    """The index's partition key first, then its sort key."""
    non_key_projected: tuple[str, ...] | None
    """Projected attributes beside the keys; None when the projection is ALL."""

    @classmethod
    def from_definition(cls, definition: Mapping[str, Any]) -> IndexSpec:
        projection = definition["Projection"]
        keys = tuple(part["AttributeName"] for part in definition["KeySchema"])
        non_key = None if projection["ProjectionType"] == "ALL" else tuple(projection.get("NonKeyAttributes", ()))
        return cls(definition["IndexName"], keys, non_key)


@dataclass(frozen=True, slots=True)
class TableSpec:
    key_names: tuple[str, ...]
    indexes: tuple[IndexSpec, ...] = ()

    @classmethod
    def from_definition(cls, definition: Mapping[str, Any]) -> TableSpec:
        """From CreateTable arguments (infra/local/template.py's table_definition)."""
        keys = tuple(part["AttributeName"] for part in definition["KeySchema"])
        indexes = tuple(IndexSpec.from_definition(index) for index in definition.get("GlobalSecondaryIndexes", ()))
        return cls(keys, indexes)


@dataclass(frozen=True, slots=True)
class PartitionWrite:
    """The units one item write puts on one partition of the table or of an index."""

    target: str
    """TABLE or an index name."""
    partition: str
    """The partition key's value there."""
    kind: str
    """The written item's ``item_type`` (``?`` when it has none)."""
    units: int
    request: int


def index_entry(item: RawItem | None, table: TableSpec, index: IndexSpec) -> RawItem | None:
    """The item's entry in ``index``, or None when the item is not in it (sparse index)."""
    if item is None or any(name not in item for name in index.key_names):
        return None
    if index.non_key_projected is None:
        return dict(item)
    names = {*table.key_names, *index.key_names, *index.non_key_projected}
    return {name: value for name, value in item.items() if name in names}


def index_writes(write: ItemWrite, table: TableSpec, index: IndexSpec) -> list[RawItem]:
    """The index entries a write puts or deletes (each one index write)."""
    old, new = index_entry(write.before, table, index), index_entry(write.after, table, index)
    if old is None or new is None:
        return [entry for entry in (old, new) if entry is not None]
    if any(old[name] != new[name] for name in index.key_names):
        return [old, new]  # the entry moves: a delete and a put
    return [new] if new != old else []


def partition_writes(write: ItemWrite, table: TableSpec) -> list[PartitionWrite]:
    """The table's write of the item and each index write, with the partition each lands on."""
    item = write.after if write.after is not None else write.before
    assert item is not None, "a write leaves or finds an item"
    size = max(item_size(image) for image in (write.before, write.after) if image is not None)
    kind = _value(item.get("item_type", {"S": "?"})) + (" check" if write.checked_only else "")
    writes = [PartitionWrite(TABLE, _value(item[table.key_names[0]]), kind,
                             write_units(size, transactional=write.transactional), write.request)]  # fmt: skip
    for index in table.indexes:
        for entry in index_writes(write, table, index):
            partition = _value(entry[index.key_names[0]])
            writes.append(PartitionWrite(index.name, partition, kind, write_units(item_size(entry)), write.request))
    return writes


def units_by_target(writes: Iterable[ItemWrite], tables: Mapping[str, TableSpec]) -> dict[str, int]:
    """Write units by where they were spent: TABLE (every table together) and each index."""
    totals: dict[str, int] = {}
    for write in writes:
        for landed in partition_writes(write, tables[write.table]):
            totals[landed.target] = totals.get(landed.target, 0) + landed.units
    return totals


@dataclass(slots=True)
class _Load:
    units: int = 0
    requests: set[int] = field(default_factory=set)
    kinds: set[str] = field(default_factory=set)


def partition_loads(writes: Iterable[ItemWrite], tables: Mapping[str, TableSpec]) -> dict[str, _Load]:
    """Units per partition, with the requests that wrote there and the kinds of items written."""
    loads: dict[str, _Load] = {}
    for write in writes:
        for landed in partition_writes(write, tables[write.table]):
            label = f"{landed.target} partition {landed.partition}"
            load = loads.setdefault(label, _Load())
            load.units += landed.units
            load.requests.add(landed.request)
            load.kinds.add(landed.kind)
    return loads


def ceiling(
    writes: Iterable[ItemWrite], tables: Mapping[str, TableSpec], records: int, units_per_second: int
) -> dict[str, Any]:
    """Records per second a stream like the measured one can sustain before one partition reaches
    ``units_per_second``. Only partitions that more than one request of the stream wrote limit it:
    a partition only one request writes (a usage record's own key) takes no steady load."""
    loads = partition_loads(writes, tables)
    recurring = {label: load for label, load in loads.items() if len(load.requests) > 1}
    if not recurring:
        raise ValueError("no partition was written by two requests: measure a longer stream")
    rates = {label: units_per_second * records / load.units for label, load in recurring.items()}
    binding = min(rates, key=lambda label: rates[label])
    return {
        "records_per_s": _rounded(rates[binding]),
        "binding": binding,
        "binding_items": sorted(recurring[binding].kinds),
        "by_partition": {label: {"records_per_s": _rounded(rate), "units_per_record": recurring[label].units / records,
                                 "items": sorted(recurring[label].kinds)} for label, rate in rates.items()},
    }  # fmt: skip


def _value(attribute: Mapping[str, Any]) -> str:
    return str(next(iter(attribute.values())))


def _rounded(rate: float) -> float | int:
    return math.floor(rate) if rate == math.floor(rate) else round(rate, 1)
