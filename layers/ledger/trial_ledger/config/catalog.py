"""The model catalog: what each model meters, its free trial, its price; parsed strictly.

The default catalog ships beside this module as data. A deploy replaces it without code changes
through ``CATALOG_JSON`` (the document itself) or ``CATALOG_FILE`` (a path), which config/settings.py
reads once per container, so a bad catalog fails the cold start instead of a request.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

MODEL_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")


class CatalogError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Trial:
    """A model's free trial: the quota a grant snapshots and how many days it lasts (R5)."""

    quota: int
    validity_days: int


@dataclass(frozen=True, slots=True)
class Price:
    """What one unit of a model costs beyond the free quota: an exact decimal in a currency (R10)."""

    currency: str
    unit_price: Decimal


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """One model of the catalog: its name, capability, unit, trial (None: no free trial) and price."""

    model_id: str
    name: str
    capability: str
    unit: str
    trial: Trial | None
    price: Price


class Catalog(Mapping[str, ModelSpec]):
    def __init__(self, models: list[ModelSpec]) -> None:
        self._models = {model.model_id: model for model in models}
        if len(self._models) != len(models):
            raise CatalogError("duplicate model_id in catalog")

    def __getitem__(self, model_id: str) -> ModelSpec:
        return self._models[model_id]

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._models))

    def __len__(self) -> int:
        return len(self._models)


def _require(mapping: Mapping[str, Any], key: str, kind: type, where: str) -> Any:
    value = mapping.get(key)
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise CatalogError(f"{where}.{key} must be a {kind.__name__}")
    return value


def _parse_model(raw: Any, index: int) -> ModelSpec:
    where = f"models[{index}]"
    if not isinstance(raw, dict):
        raise CatalogError(f"{where} must be an object")
    model_id = _require(raw, "model_id", str, where)
    if not MODEL_ID_PATTERN.fullmatch(model_id):
        raise CatalogError(f"{where}.model_id {model_id!r} is not a valid id")
    trial = None
    if raw.get("trial") is not None:
        trial_raw = _require(raw, "trial", dict, where)
        trial = Trial(
            quota=_require(trial_raw, "quota", int, f"{where}.trial"),
            validity_days=_require(trial_raw, "validity_days", int, f"{where}.trial"),
        )
        if trial.quota <= 0 or trial.validity_days <= 0:
            raise CatalogError(f"{where}.trial quota and validity_days must be positive")
    price_raw = _require(raw, "price", dict, where)
    try:
        unit_price = Decimal(_require(price_raw, "unit_price", str, f"{where}.price"))
    except InvalidOperation as error:
        raise CatalogError(f"{where}.price.unit_price is not a decimal") from error
    if not unit_price.is_finite() or unit_price < 0:
        raise CatalogError(f"{where}.price.unit_price must be a finite, non-negative decimal")
    return ModelSpec(
        model_id=model_id,
        name=_require(raw, "name", str, where),
        capability=_require(raw, "capability", str, where),
        unit=_require(raw, "unit", str, where),
        trial=trial,
        price=Price(currency=_require(price_raw, "currency", str, f"{where}.price"), unit_price=unit_price),
    )


def parse_catalog(document: str) -> Catalog:
    try:
        data = json.loads(document)
    except json.JSONDecodeError as error:
        raise CatalogError(f"catalog is not JSON: {error}") from error
    if not isinstance(data, dict) or not isinstance(data.get("models"), list):
        raise CatalogError('catalog must be an object with a "models" list')
    return Catalog([_parse_model(raw, index) for index, raw in enumerate(data["models"])])


def default_catalog_document() -> str:
    # Beside this module in the layer, as it is in the source tree (importlib.resources would read it
    # the same way, after 1 ms of imports at every cold start).
    return (Path(__file__).parent / "catalog_default.json").read_text(encoding="utf-8")
