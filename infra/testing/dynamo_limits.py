"""Make moto refuse what DynamoDB refuses: the item, key, expression, batch and transaction limits.

moto stores what DynamoDB would refuse, so a test or the local stack could pass where AWS fails.
``install()`` checks each request in moto's ``DynamoHandler`` (the entry point of the in-process
mock and of the embedded server alike) before moto applies anything, and answers with DynamoDB's
error code and message:

- an item over 400 KB (409,600 bytes, as ``infra/testing/dynamo_sizes.py`` measures it) in a
  PutItem, a BatchWriteItem or a TransactWriteItems Put; an UpdateItem is measured on the item it
  leaves, after moto applies it, and undone if over (inside a transaction that cancels it, reason
  ``ValidationError``);
- a partition key value over 2,048 bytes or a sort key value over 1,024 bytes, of the table or an
  index, wherever a key or an item is sent;
- an expression (key condition, condition, update, projection, filter) over 4,096 bytes;
- a BatchGetItem over 100 keys, a BatchWriteItem over 25 requests;
- a TransactWriteItems or TransactGetItems over 100 actions, or over 4 MB of items.

moto's own size check (405,000 bytes by a looser measure) is switched off and its TransactGetItems
limit raised from 25 to DynamoDB's 100, so that what DynamoDB accepts is accepted."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import moto.dynamodb.responses as moto_responses
from moto.dynamodb.exceptions import MockValidationException
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import Item, LimitedSizeDict
from moto.dynamodb.models.table import Table
from moto.dynamodb.responses import DynamoHandler

from infra.testing import moto_transactions
from infra.testing.dynamo_sizes import binary_size, item_size, stored_size

MAX_ITEM_BYTES = 400 * 1024
MAX_PARTITION_KEY_BYTES = 2048
MAX_SORT_KEY_BYTES = 1024
MAX_EXPRESSION_BYTES = 4096
MAX_BATCH_GET_KEYS = 100
MAX_BATCH_WRITE_REQUESTS = 25
MAX_TRANSACTION_ACTIONS = 100
MAX_TRANSACTION_BYTES = 4 * 1024 * 1024
EXPRESSIONS = ("KeyConditionExpression", "ConditionExpression", "UpdateExpression", "ProjectionExpression",
               "FilterExpression")  # fmt: skip

ITEM_TOO_LARGE = "Item size has exceeded the maximum allowed size"
UPDATE_TOO_LARGE = "Item size to update has exceeded the maximum allowed size"
INVALID = "One or more parameter values were invalid"
HASH_KEY_TOO_LARGE = f"{INVALID}: Size of hashkey has exceeded the maximum size limit of{MAX_PARTITION_KEY_BYTES} bytes"
"""Without a space before the number: DynamoDB's own words."""
RANGE_KEY_TOO_LARGE = (
    f"{INVALID}: Aggregated size of all range keys has exceeded the size limit of {MAX_SORT_KEY_BYTES} bytes"
)
INDEX_KEY_TOO_LARGE = "The update expression attempted to update the secondary index key beyond allowed size limits"
TRANSACTION_TOO_LARGE = "Transaction request cannot be larger than 4 MB"
AT_MOST = "Member must have length less than or equal to"
JAVA = "com.amazonaws.dynamodb.v20120810"
"""DynamoDB's length errors echo the request's members as Java objects of this package."""


class ValidationError(Exception):
    """An update refused inside a transaction: moto lists it as reason ``ValidationError``."""


# -- what each request may carry ------------------------------------------------------------------


def _refuse(message: str) -> MockValidationException:
    return MockValidationException(message)


def _key_bytes(value: dict[str, Any]) -> int:
    kind, raw = next(iter(value.items()))
    return len(raw.encode()) if kind == "S" else binary_size(raw) if kind == "B" else 0


def check_keys(table: Table, attributes: dict[str, Any], message: str | None = None) -> None:
    """The key values among ``attributes`` (of the table and its indexes) are within their limits."""
    for names, limit, refusal in ((table.hash_key_names, MAX_PARTITION_KEY_BYTES, HASH_KEY_TOO_LARGE),
                                  (table.range_key_names, MAX_SORT_KEY_BYTES, RANGE_KEY_TOO_LARGE)):  # fmt: skip
        if any(name in attributes and _key_bytes(attributes[name]) > limit for name in names):
            raise _refuse(message or refusal)


def check_expressions(request: dict[str, Any]) -> None:
    for name in EXPRESSIONS:
        if (size := len((request.get(name) or "").encode())) > MAX_EXPRESSION_BYTES:
            raise _refuse(f"Invalid {name}: Expression size has exceeded the maximum allowed size; "
                          f"expression size: {size}")  # fmt: skip


def check_item(table: Table, item: dict[str, Any]) -> int:
    """A whole item to put: its keys and its size, which is returned."""
    check_keys(table, item)
    if (size := item_size(item)) > MAX_ITEM_BYTES:
        raise _refuse(ITEM_TOO_LARGE)
    return size


def _too_many(members: list[Any], java_class: str) -> str:
    return ", ".join(f"{JAVA}.{java_class}@{id(member) & 0xFFFFFFFF:x}" for member in members)


def _check_single(backend: DynamoDBBackend, body: dict[str, Any]) -> None:
    """PutItem, UpdateItem, DeleteItem, GetItem, Query and Scan."""
    check_expressions(body)
    table = backend.get_table(body["TableName"])
    if "Item" in body:
        check_item(table, body["Item"])
    if "Key" in body:
        check_keys(table, body["Key"])


def _check_batch_get(backend: DynamoDBBackend, body: dict[str, Any]) -> None:
    for name, request in body["RequestItems"].items():
        if len(request["Keys"]) > MAX_BATCH_GET_KEYS:
            raise _refuse(f"1 validation error detected: Value at 'RequestItems.{name}.member.Keys' failed to "
                          f"satisfy constraint: {AT_MOST} {MAX_BATCH_GET_KEYS}")  # fmt: skip
        check_expressions(request)
        for key in request["Keys"]:
            check_keys(backend.get_table(name), key)
    if sum(len(request["Keys"]) for request in body["RequestItems"].values()) > MAX_BATCH_GET_KEYS:
        raise _refuse("Too many items requested for the BatchGetItem call")


def _check_batch_write(backend: DynamoDBBackend, body: dict[str, Any]) -> None:
    for name, requests in body["RequestItems"].items():
        if len(requests) > MAX_BATCH_WRITE_REQUESTS:
            raise _refuse(f"1 validation error detected: Value '{{{name}=[{_too_many(requests, 'WriteRequest')}]}}' "
                          "at 'requestItems' failed to satisfy constraint: Map value must satisfy constraint: "
                          f"[{AT_MOST} {MAX_BATCH_WRITE_REQUESTS}, "
                          "Member must have length greater than or equal to 1]")  # fmt: skip
        table = backend.get_table(name)
        for request in requests:
            if "PutRequest" in request:
                check_item(table, request["PutRequest"]["Item"])
            else:
                check_keys(table, request["DeleteRequest"]["Key"])
    if sum(len(requests) for requests in body["RequestItems"].values()) > MAX_BATCH_WRITE_REQUESTS:
        raise _refuse("Too many items requested for the BatchWriteItem call")


def _check_transaction_length(actions: list[Any], java_class: str) -> None:
    if len(actions) > MAX_TRANSACTION_ACTIONS:
        raise _refuse(f"1 validation error detected: Value '[{_too_many(actions, java_class)}]' at 'transactItems' "
                      f"failed to satisfy constraint: {AT_MOST} {MAX_TRANSACTION_ACTIONS}")  # fmt: skip


def _action_size(backend: DynamoDBBackend, kind: str, action: dict[str, Any]) -> int:
    """A transaction's action, checked; what it weighs before it runs: a Put its item, any other
    its key (an Update is weighed again on the item it leaves, after it ran)."""
    check_expressions(action)
    table = backend.get_table(action["TableName"])
    if kind == "Put":
        return check_item(table, action["Item"])
    check_keys(table, action["Key"])
    return item_size(action["Key"])


def _check_transact_write(backend: DynamoDBBackend, body: dict[str, Any]) -> None:
    actions = body["TransactItems"]
    _check_transaction_length(actions, "TransactWriteItem")
    if sum(_action_size(backend, *next(iter(entry.items()))) for entry in actions) > MAX_TRANSACTION_BYTES:
        raise _refuse(TRANSACTION_TOO_LARGE)


def _check_transact_get(backend: DynamoDBBackend, body: dict[str, Any]) -> None:
    actions = body["TransactItems"]
    _check_transaction_length(actions, "TransactGetItem")
    total = 0
    for entry in actions:
        check_expressions(entry["Get"])
        check_keys(backend.get_table(entry["Get"]["TableName"]), entry["Get"]["Key"])
        item = backend.get_item(entry["Get"]["TableName"], entry["Get"]["Key"])
        total += 0 if item is None else stored_size(item)
    if total > MAX_TRANSACTION_BYTES:
        raise _refuse(TRANSACTION_TOO_LARGE)


CHECKS: dict[str, Callable[[DynamoDBBackend, dict[str, Any]], None]] = {
    **dict.fromkeys(("put_item", "update_item", "delete_item", "get_item", "query", "scan"), _check_single),
    "batch_get_item": _check_batch_get,
    "batch_write_item": _check_batch_write,
    "transact_write_items": _check_transact_write,
    "transact_get_items": _check_transact_get,
}
"""Each guarded action of moto's DynamoHandler and the check its request passes first."""


# -- what an update leaves ------------------------------------------------------------------------


def _left_too_large(table: Table, item: Item) -> str | None:
    """Why the item an update left is one DynamoDB would refuse, if it is."""
    if stored_size(item) > MAX_ITEM_BYTES:
        return UPDATE_TOO_LARGE
    keys = {name: item.attrs[name].to_json() for name in {*table.hash_key_names, *table.range_key_names}
            if name in item.attrs}  # fmt: skip
    try:
        check_keys(table, keys, INDEX_KEY_TOO_LARGE)
    except MockValidationException:
        return INDEX_KEY_TOO_LARGE
    return None


def _guard_update(original: Callable[..., Item]) -> Callable[..., Item]:
    """Apply an update, then undo it if the item it left is one DynamoDB would refuse."""

    @functools.wraps(original)
    def update_item(self: DynamoDBBackend, table_name: str, key: dict[str, Any], *args: Any, **kwargs: Any) -> Item:
        taken = moto_transactions.snapshot(self, [{"Update": {"TableName": table_name, "Key": key}}])
        lengths = moto_transactions.stream_lengths(taken)
        item = original(self, table_name, key, *args, **kwargs)
        if (refusal := _left_too_large(self.get_table(table_name), item)) is not None:
            moto_transactions.restore(taken, lengths)
            raise ValidationError(refusal)
        return item

    return update_item


def _written_size(backend: DynamoDBBackend, actions: list[dict[str, Any]]) -> int:
    """What a transaction that ran weighs: its Puts' items, its Updates' items as they are now,
    the keys of the rest."""
    total = 0
    for entry in actions:
        kind, action = next(iter(entry.items()))
        item = backend.get_item(action["TableName"], action["Key"]) if kind == "Update" else None
        total += stored_size(item) if item else item_size(action["Item" if kind == "Put" else "Key"])
    return total


Action = Callable[[DynamoHandler], Any]


def _guard_transaction(original: Action) -> Action:
    """Undo a transaction whose Updates took it over 4 MB of items."""

    @functools.wraps(original)
    def transact_write_items(self: DynamoHandler) -> Any:
        actions, backend = self.body["TransactItems"], self.dynamodb_backend
        if not any("Update" in entry for entry in actions):
            return original(self)
        taken = moto_transactions.snapshot(backend, actions)
        lengths = moto_transactions.stream_lengths(taken)
        answer = original(self)
        if _written_size(backend, actions) > MAX_TRANSACTION_BYTES:
            moto_transactions.restore(taken, lengths)
            raise _refuse(TRANSACTION_TOO_LARGE)
        return answer

    return transact_write_items


def _guard_action(name: str, original: Action) -> Action:
    """Check the request before moto sees it; an update refused on its own is a ValidationException."""

    @functools.wraps(original)
    def action(self: DynamoHandler) -> Any:
        CHECKS[name](self.dynamodb_backend, self.body)
        try:
            return original(self)
        except ValidationError as refused:
            raise _refuse(str(refused)) from None

    return action


def install() -> None:
    """Patch moto in this process; idempotent."""
    if getattr(DynamoHandler.put_item, "_limits_guard", False):
        return
    for name in CHECKS:
        original = getattr(DynamoHandler, name)
        guarded = _guard_action(name, _guard_transaction(original) if name == "transact_write_items" else original)
        guarded._limits_guard = True  # type: ignore[attr-defined]
        setattr(DynamoHandler, name, guarded)
    DynamoDBBackend.update_item = _guard_update(DynamoDBBackend.update_item)  # type: ignore[method-assign]
    setattr(LimitedSizeDict, "__setitem__", dict.__setitem__)  # noqa: B010 (moto's 405,000-byte check; ours instead)
    setattr(moto_responses, "TRANSACTION_MAX_ITEMS", MAX_TRANSACTION_ACTIONS)  # noqa: B010 (moto's is 25)
