"""Grants claimed before grants had partition keys of their own, found and moved to theirs.

Before grants had keys of their own, a grant was the item at its claim's key (keys.claim_key,
under the account's partition key, with its profile). Now a grant has a key of its own
(keys.grant_key) and the claim key holds the claim's mark. A grant still at its claim key is
moved in one transaction: its copy is put at its own key, which must be free, and the mark put in
its place on the condition that the grant is still exactly the item read (every attribute equal,
none added), so that no write that landed on it meanwhile is lost. The store moves a grant
wherever it meets one; ``make migrate-grants`` (infra/tools/migrate_grants.py) moves them all
(docs/operations.md, "Grant keys")."""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from itertools import batched
from typing import Any

from pynamodb.connection import Connection

from ..domain.refusals import Contended
from ..domain.state import GrantKey, GrantState
from . import plain
from .items import ClaimMarkItem, GrantItem
from .keys import ACCOUNT_KEY_PREFIX, claim_key, grant_key
from .plain import RawItem
from .transactions import Cancellation, transaction

MOVE_TRIES = 5
"""Moves of one grant that may meet a write landing on it before the move gives up (Contended)."""
MOVED_FROM = "moved_from"
"""Set on a moved grant: the partition key it was claimed under (items.GrantItem.moved_from)."""


class LegacyGrants:
    """The store's collaborator for grants found at their claim keys."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def behind_claims(self, grants: Iterable[GrantKey]) -> dict[GrantKey, GrantState]:
        """The grants of ``grants`` (account, model) whose own key held no item when read: each one
        found at its claim key is moved; behind a claim's mark, the grant is read at its own key
        (claimed since that read). A pair with neither has no grant and is left out."""
        wanted = list(dict.fromkeys(grants))
        found: dict[GrantKey, GrantState] = {}
        marked: list[GrantKey] = []
        for raw in plain.batch_get(self._connection, [claim_key(*pair) for pair in wanted]):
            pair = (raw["account_id"]["S"], raw["model_id"]["S"])
            if raw["item_type"]["S"] == plain.discriminator(GrantItem):
                found[pair] = self.move(raw)
            else:
                marked.append(pair)
        for raw in plain.batch_get(self._connection, [grant_key(*pair) for pair in marked]):
            found[(raw["account_id"]["S"], raw["model_id"]["S"])] = plain.grant_state(raw)
        return found

    def move_all(self) -> tuple[int, int]:
        """Move every grant still at its claim key (a Scan of the whole table: the one-shot
        migration's, never a request path's); (grants found there, grants moved by this call)."""
        found = moved = 0
        legacy = GrantItem.pk.startswith(ACCOUNT_KEY_PREFIX)
        for page in batched(GrantItem.scan(legacy, attributes_to_get=["item_type", "account_id", "model_id"]), 100):
            found += len(page)
            raws = plain.batch_get(self._connection, [claim_key(grant.account_id, grant.model_id) for grant in page])
            for raw in raws:
                if raw["item_type"]["S"] == plain.discriminator(GrantItem):
                    self.move(raw)
                    moved += 1
        return found, moved

    def move_if_legacy(self, grants: Iterable[GrantKey]) -> bool:
        """Move those of ``grants`` still at their claim keys; whether there was one."""
        raws = plain.batch_get(self._connection, [claim_key(*pair) for pair in dict.fromkeys(grants)])
        legacy = [raw for raw in raws if raw["item_type"]["S"] == plain.discriminator(GrantItem)]
        for raw in legacy:
            self.move(raw)
        return bool(legacy)

    def move(self, legacy: RawItem) -> GrantState:
        """Move the grant ``legacy`` (as read at its claim key) to its own key; the grant as it is
        there. Raises Contended when writes kept landing on it."""
        for _ in range(MOVE_TRIES):
            copy, mark = _copy_put(legacy), _mark_put(legacy)
            try:
                with transaction(self._connection) as tx:
                    copied = tx.put_plain(copy)
                    marking = tx.put_plain(mark)
            except Cancellation as cancelled:
                if cancelled.refused(copied):  # moved already, by another reader
                    return plain.grant_state(_required(cancelled.old_item(copied)))
                now = _required(cancelled.old_item(marking))
                if now["item_type"]["S"] != plain.discriminator(GrantItem):
                    return self._own(now)
                legacy = now  # written to since it was read: move it as it is now
            else:
                return plain.grant_state(copy["Item"])
        raise Contended("a grant kept changing while it was moved to its own key")

    def _own(self, mark: RawItem) -> GrantState:
        pair = (mark["account_id"]["S"], mark["model_id"]["S"])
        return plain.grant_state(plain.batch_get(self._connection, [grant_key(*pair)])[0])


def _required(raw: RawItem | None) -> RawItem:
    if raw is None:
        raise Contended("a refused move returned no item")
    return raw


def _copy_put(legacy: RawItem) -> dict[str, Any]:
    account_id, model_id = legacy["account_id"]["S"], legacy["model_id"]["S"]
    item = {**legacy, **plain.key(*grant_key(account_id, model_id)), MOVED_FROM: legacy["PK"]}
    return {"TableName": plain.table_name(), "Item": item, "ConditionExpression": plain.ABSENT_KEY,
            "ExpressionAttributeNames": {"#0": "PK"}, "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}  # fmt: skip


def _mark_put(legacy: RawItem) -> dict[str, Any]:
    """The claim's mark in the grant's place, if the grant is exactly ``legacy`` still."""
    placeholders, required = plain.Placeholders(), []
    for name, value in legacy.items():
        if name not in ("PK", "SK"):
            required.append(f"{placeholders.name(name)} = {placeholders.value(value)}")
    required += [f"attribute_not_exists ({placeholders.name(name)})" for name in _grant_attributes()
                 if name not in legacy]  # fmt: skip
    mark = {
        **plain.key(legacy["PK"]["S"], legacy["SK"]["S"]),
        "item_type": {"S": plain.discriminator(ClaimMarkItem)},
        **{name: legacy[name] for name in ("account_id", "model_id", "claimed_at")},
    }
    return {
        "TableName": plain.table_name(),
        "Item": mark,
        "ConditionExpression": " AND ".join(required),
        "ExpressionAttributeNames": placeholders.names,
        "ExpressionAttributeValues": placeholders.values,
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }


@cache
def _grant_attributes() -> tuple[str, ...]:
    return tuple(attribute.attr_name for attribute in GrantItem.get_attributes().values())
