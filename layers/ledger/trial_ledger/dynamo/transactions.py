"""Puts one TransactWriteItems together, commits it, and reads its cancellation item by item."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from pynamodb.connection import Connection
from pynamodb.exceptions import TransactWriteError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.models import Model

from ..domain.refusals import Contended
from . import errors as dynamo_errors
from .errors import TRANSIENT_CANCELLATION_CODES, StoreUnavailable
from .mapping import RawItem


class ItemRef:
    """One item of a transaction, to ask its cancellation about."""

    __slots__ = ()


class Cancellation(Exception):
    """The transaction was cancelled because of these items; each maps to the item as it is now
    (ReturnValuesOnConditionCheckFailure = ALL_OLD), or None when the request did not ask for it."""

    def __init__(self, refused: dict[ItemRef, RawItem | None]) -> None:
        super().__init__(f"{len(refused)} item(s) refused")
        self._refused = refused

    def refused(self, item: ItemRef | None) -> bool:
        return item is not None and item in self._refused

    def old_item(self, item: ItemRef | None) -> RawItem | None:
        return self._refused.get(item) if item is not None else None


class TransactionItems:
    """The items of one TransactWriteItems; the store commits it (the context manager's exit).

    Model items are turned into their operations as PynamoDB's TransactWrite does; the hot path's
    come as plain operations (plain.py)."""

    def __init__(self) -> None:
        self.operations: tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]] = ([], [], [])
        self._checks: list[ItemRef] = []
        self._puts: list[ItemRef] = []
        self._updates: list[ItemRef] = []

    def check(self, model: type[Model], pk: str, sk: str, condition: Condition) -> ItemRef:
        self.operations[0].append(model.get_operation_kwargs_from_class(pk, range_key=sk, condition=condition))
        return _added(self._checks)

    def put(self, item: Model, condition: Condition) -> ItemRef:
        operation = item.get_save_kwargs_from_instance(condition, return_values_on_condition_failure="ALL_OLD")
        return self.put_plain(operation)

    def update(self, item: Model, actions: list[Action], condition: Condition | None = None) -> ItemRef:
        operation = item.get_update_kwargs_from_instance(
            actions=actions, condition=condition, return_values_on_condition_failure="ALL_OLD"
        )
        return self.update_plain(operation)

    def put_plain(self, operation: dict[str, Any]) -> ItemRef:
        self.operations[1].append(operation)
        return _added(self._puts)

    def update_plain(self, operation: dict[str, Any]) -> ItemRef:
        self.operations[2].append(operation)
        return _added(self._updates)

    def cancellation(self, error: TransactWriteError) -> Cancellation:
        """The refused items of a cancelled commit; raises Contended when no item was refused
        for what it holds (a concurrent transaction, throttling)."""
        # Condition checks are sent first, then puts, then updates; the reasons follow that order.
        sent = self._checks + self._puts + self._updates
        refused: dict[ItemRef, RawItem | None] = {}
        for item, reason in zip(sent, error.cancellation_reasons, strict=False):
            if reason is not None and reason.code not in ("None", None, *TRANSIENT_CANCELLATION_CODES):
                refused[item] = reason.raw_item
        if not refused:
            raise Contended(str(error)) from error
        return Cancellation(refused)


def _added(kind: list[ItemRef]) -> ItemRef:
    item = ItemRef()
    kind.append(item)
    return item


@contextmanager
def transaction(connection: Connection) -> Iterator[TransactionItems]:
    """One TransactWriteItems, committed when the block ends; raises Cancellation (or
    Contended) when it is cancelled, StoreUnavailable when DynamoDB stays unavailable."""
    # A fresh token per logical attempt: botocore's own retries of this exact request reuse
    # it, so a retry after a timeout whose write already landed is answered, not re-applied.
    token = str(uuid.uuid4())
    items = TransactionItems()
    yield items
    checks, puts, updates = items.operations
    try:
        connection.transact_write_items(checks, [], puts, updates, client_request_token=token)
    except TransactWriteError as error:
        if dynamo_errors.cause_code(error) == dynamo_errors.TRANSACTION_CANCELLED:
            raise items.cancellation(error) from None
        if dynamo_errors.is_transient(error):
            raise StoreUnavailable(str(error)) from error
        raise
