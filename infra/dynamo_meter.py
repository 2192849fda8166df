"""Count DynamoDB requests and the items they read and write, with botocore event hooks on the
clients the ledger uses. The benchmark and the scale tests measure through this."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from trial_ledger.records import AccountProfileItem, ExpiryItem, GrantItem, LedgerItem, UsageItem
from trial_ledger.store import LedgerStore

_MODELS = (LedgerItem, AccountProfileItem, GrantItem, UsageItem, ExpiryItem)


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


@dataclass
class DynamoMeter:
    requests: Counter[str] = field(default_factory=Counter)
    items_read: int = 0
    items_written: int = 0
    _attached: set[int] = field(default_factory=set)

    def attach(self, client: Any) -> None:
        if id(client) in self._attached:
            return
        self._attached.add(id(client))
        client.meta.events.register("before-parameter-build.dynamodb", self._remember_params)
        client.meta.events.register("after-call.dynamodb", self._count)

    def attach_ledger(self, store: LedgerStore) -> None:
        """Hook every client the ledger's store and PynamoDB models send requests through."""
        self.attach(store.client)
        for model in _MODELS:
            self.attach(model._get_connection().connection.client)

    def reset(self) -> None:
        self.requests.clear()
        self.items_read = self.items_written = 0

    @property
    def total_requests(self) -> int:
        return sum(self.requests.values())

    def _remember_params(self, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["meter_params"] = params

    def _count(self, parsed: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        operation = model.name
        self.requests[operation] += 1
        self.items_read += _items_read(operation, parsed)
        self.items_written += _items_written(operation, context.get("meter_params", {}), parsed)
