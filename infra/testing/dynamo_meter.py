"""Count DynamoDB requests and the items they read and write, with botocore event hooks on the
clients the ledger uses. The benchmark and the scale tests measure through this.

Given an ``ItemImages`` reader, the meter also keeps each written item as it was before and after
its request (``writes``), so the benchmark can bill them by DynamoDB's rules (bench/capacity.py)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from trial_ledger.dynamo.items import AccountProfileItem, ExpiryItem, GrantItem, LedgerItem, UsageItem
from trial_ledger.dynamo.store import LedgerStore

_MODELS = (LedgerItem, AccountProfileItem, GrantItem, UsageItem, ExpiryItem)
RawItem = dict[str, dict[str, Any]]


def _items_read(operation: str, parsed: dict[str, Any]) -> int:
    if operation in ("Query", "Scan"):
        return int(parsed.get("Count", 0))
    if operation == "GetItem":
        return 1 if parsed.get("Item") else 0
    if operation == "BatchGetItem":
        return sum(len(items) for items in parsed.get("Responses", {}).values())
    if operation == "TransactGetItems":
        return sum(1 for response in parsed.get("Responses", []) if response.get("Item"))
    return 0


def _items_written(operation: str, params: dict[str, Any], parsed: dict[str, Any]) -> int:
    failed = "Error" in parsed
    if operation in ("PutItem", "UpdateItem", "DeleteItem"):
        return 0 if failed else 1
    if operation == "TransactWriteItems":
        return 0 if failed else sum(1 for item in params["TransactItems"] if "ConditionCheck" not in item)
    if operation == "BatchWriteItem":
        requested = sum(len(requests) for requests in params["RequestItems"].values())
        unprocessed = sum(len(requests) for requests in parsed.get("UnprocessedItems", {}).values())
        return requested - unprocessed
    return 0


@dataclass(frozen=True, slots=True)
class ItemWrite:
    """One item a request wrote, as it was before the request and after it (None: absent)."""

    request: int
    """The meter's number of the request that wrote it (1, 2, ... since the last reset)."""
    table: str
    transactional: bool
    before: RawItem | None
    after: RawItem | None
    checked_only: bool = False
    """A transaction's ConditionCheck: nothing changes, and DynamoDB still bills the item as a
    transactional write of its size (its Developer Guide, "Capacity management for transactions":
    two underlying reads or writes of every item of the transaction, prepare and commit)."""


@dataclass(frozen=True, slots=True)
class _Target:
    """An item a write request names: its table, and its key or (for a put) the whole item."""

    table: str
    key_or_item: RawItem
    transactional: bool
    checked_only: bool = False


def _write_targets(operation: str, params: dict[str, Any]) -> list[_Target]:
    if operation == "PutItem":
        return [_Target(params["TableName"], params["Item"], False)]
    if operation in ("UpdateItem", "DeleteItem"):
        return [_Target(params["TableName"], params["Key"], False)]
    if operation == "TransactWriteItems":
        return [_Target(request["TableName"], request.get("Item") or request["Key"], True, kind == "ConditionCheck")
                for entry in params["TransactItems"] for kind, request in entry.items()]  # fmt: skip
    if operation == "BatchWriteItem":
        return [_Target(table, request.get("PutRequest", {}).get("Item") or request["DeleteRequest"]["Key"], False)
                for table, requests in params["RequestItems"].items() for request in requests]  # fmt: skip
    return []


class ItemImages:
    """Reads items as they are stored, through a client of its own that no meter counts."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self._key_names: dict[str, list[str]] = {}

    def key_of(self, table: str, item: RawItem) -> RawItem:
        if table not in self._key_names:
            schema = self._client.describe_table(TableName=table)["Table"]["KeySchema"]
            self._key_names[table] = [part["AttributeName"] for part in schema]
        return {name: item[name] for name in self._key_names[table]}

    def read(self, table: str, key: RawItem) -> RawItem | None:
        found: RawItem | None = self._client.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item")
        return found


@dataclass
class DynamoMeter:
    images: ItemImages | None = None
    """When set, ``writes`` keeps every written item's before and after image."""
    requests: Counter[str] = field(default_factory=Counter)
    items_read: int = 0
    items_written: int = 0
    writes: list[ItemWrite] = field(default_factory=list)
    _attached: dict[int, Any] = field(default_factory=dict)

    def attach(self, client: Any) -> None:
        if id(client) in self._attached:
            return
        self._attached[id(client)] = client
        for event, handler in self._hooks():
            client.meta.events.register(event, handler)

    def detach(self) -> None:
        """Unhook every client: the store's and the models' clients outlive the measurement, and
        a meter that reads images would otherwise keep reading on each later write."""
        for client in self._attached.values():
            for event, handler in self._hooks():
                client.meta.events.unregister(event, handler)
        self._attached.clear()

    def _hooks(self) -> list[tuple[str, Any]]:
        return [("before-parameter-build.dynamodb", self._remember_params),
                ("before-call.dynamodb", self._read_before), ("after-call.dynamodb", self._count)]  # fmt: skip

    def attach_ledger(self, store: LedgerStore) -> None:
        """Hook every client the ledger's store and PynamoDB models send requests through."""
        self.attach(store.client)
        for model in _MODELS:
            self.attach(model._get_connection().connection.client)

    def reset(self) -> None:
        self.requests.clear()
        self.items_read = self.items_written = 0
        self.writes.clear()

    @property
    def total_requests(self) -> int:
        return sum(self.requests.values())

    def _remember_params(self, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["meter_params"] = params

    def _read_before(self, model: Any, context: dict[str, Any], **_: Any) -> None:
        if self.images is None:
            return
        images = self.images
        targets = _write_targets(model.name, context.get("meter_params", {}))
        keyed = [(target, images.key_of(target.table, target.key_or_item)) for target in targets]
        context["meter_before"] = [(target, key, images.read(target.table, key)) for target, key in keyed]

    def _count(self, parsed: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        operation = model.name
        self.requests[operation] += 1
        self.items_read += _items_read(operation, parsed)
        self.items_written += _items_written(operation, context.get("meter_params", {}), parsed)
        if self.images is not None and "Error" not in parsed:
            self._keep_writes(context.get("meter_before", []), parsed)

    def _keep_writes(self, before: list[tuple[_Target, RawItem, RawItem | None]], parsed: dict[str, Any]) -> None:
        assert self.images is not None
        unprocessed = [request.get("PutRequest", {}).get("Item") or request.get("DeleteRequest", {}).get("Key")
                       for requests in parsed.get("UnprocessedItems", {}).values() for request in requests]  # fmt: skip
        for target, key, old in before:
            if target.key_or_item in unprocessed:
                continue
            new = self.images.read(target.table, key)
            self.writes.append(
                ItemWrite(self.total_requests, target.table, target.transactional, old, new, target.checked_only)
            )
