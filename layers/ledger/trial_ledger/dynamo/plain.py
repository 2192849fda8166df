"""The hot path's requests and reads as plain AttributeValue dicts, without PynamoDB's model instances.

The authorize's read, the usage's and the hold's puts and the grant's draw are built here the way
PynamoDB would build them (the same items, attribute types from the models of items.py, the same
conditions), at a fraction of the cost per request; their placeholders are numbered as they are
first used. Every other request goes through the models."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from functools import cache
from typing import Any

from pynamodb.attributes import Attribute
from pynamodb.connection import Connection

from ..domain.state import GrantState, HeldPeriod, ProfileState
from ..results import ClaimMethod
from .items import LedgerItem
from .mapping import period_until

RawItem = dict[str, dict[str, Any]]
BATCH_GET_KEYS = 100
"""BatchGetItem's limit of keys per request (PynamoDB's page)."""
ABSENT_KEY = "attribute_not_exists (#0)"


class Placeholders:
    """The expression attribute names and values of one request, each name given once."""

    __slots__ = ("_named", "names", "values")

    def __init__(self) -> None:
        self._named: dict[str, str] = {}
        self.names: dict[str, str] = {}
        self.values: dict[str, dict[str, Any]] = {}

    def name(self, attribute: str) -> str:
        placeholder = self._named.get(attribute)
        if placeholder is None:
            placeholder = self._named[attribute] = f"#{len(self._named)}"
            self.names[placeholder] = attribute
        return placeholder

    def path(self, *elements: str) -> str:
        """A document path whose every element is a name placeholder."""
        return ".".join(self.name(element) for element in elements)

    def value(self, value: dict[str, Any]) -> str:
        placeholder = f":{len(self.values)}"
        self.values[placeholder] = value
        return placeholder

    def number(self, value: int) -> str:
        return self.value(number(value))

    def string(self, value: str) -> str:
        return self.value({"S": value})


class UpdateRequest:
    """One conditional update: its SET and REMOVE clauses and the parts its condition requires."""

    def __init__(self) -> None:
        self.placeholders = Placeholders()
        self.sets: list[str] = []
        self.removes: list[str] = []
        self.required: list[str] = []

    def set(self, path: str, value: str) -> None:
        self.sets.append(f"{path} = {value}")

    def remove(self, path: str) -> None:
        self.removes.append(path)

    def require(self, part: str) -> None:
        self.required.append(part)

    def condition_text(self) -> str:
        return self.required[0] if len(self.required) == 1 else "(" + " AND ".join(self.required) + ")"

    def update_text(self) -> str:
        clauses = []
        if self.sets:
            clauses.append("SET " + ", ".join(self.sets))
        if self.removes:
            clauses.append("REMOVE " + ", ".join(self.removes))
        return " ".join(clauses)

    def operation(self, key: RawItem) -> dict[str, Any]:
        """The update's TransactWriteItems operation, the item as it is returned when refused."""
        request = {
            "TableName": table_name(),
            "Key": key,
            "UpdateExpression": self.update_text(),
            "ConditionExpression": self.condition_text(),
            "ExpressionAttributeNames": self.placeholders.names,
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
        if self.placeholders.values:
            request["ExpressionAttributeValues"] = self.placeholders.values
        return request


def table_name() -> str:
    return str(LedgerItem.Meta.table_name)


def number(value: Any) -> dict[str, str]:
    """A NumberAttribute's value as PynamoDB serializes it (json.dumps; str of an int is the same)."""
    return {"N": str(value) if type(value) is int else json.dumps(value)}


def key(pk: str, sk: str) -> RawItem:
    return {"PK": {"S": pk}, "SK": {"S": sk}}


@cache
def _attributes(model: type[LedgerItem]) -> dict[str, Attribute[Any]]:
    return dict(model.get_attributes())


@cache
def _required(model: type[LedgerItem]) -> tuple[str, ...]:
    """The attributes an item must have, but its key and ``item_type`` (set by new_item_put)."""
    return tuple(name for name, attribute in _attributes(model).items()
                 if not attribute.null and name not in ("pk", "sk", "item_type"))  # fmt: skip


@cache
def discriminator(model: type[LedgerItem]) -> str:
    """The ``item_type`` of the model's items."""
    return str(LedgerItem.item_type.get_discriminator(model))


def attribute_value(model: type[LedgerItem], name: str, value: Any) -> dict[str, Any]:
    """``value`` of the model's attribute ``name`` as its attribute class serializes it."""
    attribute = _attributes(model)[name]
    kind = attribute.attr_type
    if kind == "S":
        return {"S": value}
    if kind == "N":
        return number(value)
    if kind == "BOOL":
        return {"BOOL": bool(value)}
    return {kind: attribute.serialize(value)}


def new_item_put(model: type[LedgerItem], pk: str, sk: str, fields: dict[str, Any]) -> dict[str, Any]:
    """The put of a new ``model`` item (its attributes ``fields``, None ones left out) on the
    condition that no item has its key; the item as it is returned when refused."""
    item = key(pk, sk)
    item["item_type"] = {"S": discriminator(model)}
    for name in _required(model):
        if fields.get(name) is None:
            raise ValueError(f"Attribute '{name}' cannot be None")
    attributes = _attributes(model)
    for name, value in fields.items():
        if value is not None:
            attribute = attributes[name]
            kind = attribute.attr_type
            item[attribute.attr_name] = {"S": value} if kind == "S" else attribute_value(model, name, value)
    return {"TableName": table_name(), "Item": item, "ConditionExpression": ABSENT_KEY,
            "ExpressionAttributeNames": {"#0": "PK"}, "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}  # fmt: skip


def batch_get(connection: Connection, keys: Sequence[tuple[str, str]]) -> list[RawItem]:
    """The items of ``keys`` (distinct), strongly consistent, in BatchGetItems of up to 100 keys,
    asking again for the unprocessed ones (as PynamoDB's Model.batch_get does)."""
    found: list[RawItem] = []
    table = table_name()
    for start in range(0, len(keys), BATCH_GET_KEYS):
        page: list[RawItem] | None = [key(pk, sk) for pk, sk in keys[start : start + BATCH_GET_KEYS]]
        while page:
            data = connection.batch_get_item(table, page, consistent_read=True)  # type: ignore[arg-type]  # keys as maps
            found += data.get("Responses", {}).get(table, [])
            page = data.get("UnprocessedKeys", {}).get(table, {}).get("Keys")
    return found


def _s(raw: RawItem, name: str) -> Any:
    value = raw.get(name)
    return value.get("S") if value and "NULL" not in value else None


def _integer(text: str) -> int:
    """A number as NumberAttribute reads it (json.loads), then int(): a plain integer directly."""
    return int(text) if text.isascii() and text.isdecimal() else int(json.loads(text))


def _n(raw: RawItem, name: str) -> int | None:
    value = raw.get(name)
    return _integer(value["N"]) if value and "N" in value else None


def _count(raw: RawItem, name: str) -> int:
    """A number the item must have (PynamoDB reads a missing one as None, which int() refuses)."""
    value = _n(raw, name)
    if value is None:
        raise TypeError(f"the item has no {name}")
    return value


def _numbers(raw: RawItem, name: str) -> tuple[int, ...] | None:
    value = raw.get(name)
    if not value or "L" not in value:
        return None
    return tuple(_integer(element["N"]) for element in value["L"])


def profile_and_grants(account_id: str, items: Iterable[RawItem]) -> tuple[ProfileState, list[GrantState]]:
    """The profile (or its absence) and the grants among an account's items, read as mapping.py
    reads their models."""
    profile = ProfileState.absent(account_id)
    grants: list[GrantState] = []
    for item in items:
        kind = _s(item, "item_type")
        if kind == "profile":
            profile = profile_state(item)
        elif kind == "grant":
            grants.append(grant_state(item))
    return profile, grants


def profile_state(raw: RawItem) -> ProfileState:
    postpaid = raw.get("postpaid_enabled")
    return ProfileState(_s(raw, "account_id"), _s(raw, "activated_at"),
                        bool(postpaid.get("BOOL")) if postpaid and "NULL" not in postpaid else False,
                        revivals=_n(raw, "revivals") or 0, balance_low_percent=_numbers(raw, "balance_low_percent"),
                        grants_claimed=_n(raw, "grants_claimed"))  # fmt: skip


def grant_state(raw: RawItem) -> GrantState:
    held = raw.get("held_units")
    units = held.get("M", {}) if held and "NULL" not in held else {}
    holds = tuple(sorted(HeldPeriod(period_until(period), _integer(value["N"]))
                         for period, value in units.items()))  # fmt: skip
    entries = _n(raw, "entries")
    return GrantState(
        account_id=_s(raw, "account_id"),
        model_id=_s(raw, "model_id"),
        unit=_s(raw, "unit"),
        quota=_count(raw, "quota"),
        used=_count(raw, "used"),
        remaining=_count(raw, "remaining"),
        expired=_count(raw, "expired"),
        claim_method=ClaimMethod(_s(raw, "claim_method")),
        claimed_at=_s(raw, "claimed_at"),
        expires_at=_s(raw, "expires_at"),
        holds=holds,
        entries=1 if entries is None else entries,
        voided_at=_s(raw, "voided_at"),
        peak_used=_n(raw, "peak_used") or 0,
        alert_thresholds=_numbers(raw, "alert_thresholds"),
    )
