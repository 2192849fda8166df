"""The catalog: default contents (SPEC section 1), strict parsing, per-deploy replacement."""

import json
from decimal import Decimal
from pathlib import Path

import pytest

from trial_ledger import load_catalog
from trial_ledger.catalog import CatalogError, default_catalog_document, parse_catalog


def test_default_catalog_has_what_the_contract_requires() -> None:
    catalog = parse_catalog(default_catalog_document())
    language_90 = [m for m in catalog.values() if m.capability == "language" and m.trial and
                   (m.trial.quota, m.trial.validity_days) == (1_000_000, 90)]  # fmt: skip
    other_validity = [m for m in catalog.values() if m.capability == "language" and m.trial and
                      m.trial.validity_days != 90]  # fmt: skip
    images = [m for m in catalog.values() if m.capability == "image" and m.unit == "images" and m.trial]
    no_trial = [m for m in catalog.values() if m.trial is None]
    assert len(language_90) >= 2
    assert other_validity
    assert images
    assert no_trial
    assert all(isinstance(m.price.unit_price, Decimal) for m in catalog.values())


def _document(**overrides: object) -> str:
    model = {
        "model_id": "m1",
        "name": "M1",
        "capability": "language",
        "unit": "tokens",
        "trial": {"quota": 10, "validity_days": 1},
        "price": {"currency": "CNY", "unit_price": "0.001"},
    } | overrides
    return json.dumps({"models": [model]})


@pytest.mark.parametrize(
    "overrides",
    [
        {"price": {"currency": "CNY", "unit_price": 0.001}},  # a float price is never exact
        {"price": {"currency": "CNY", "unit_price": "-1"}},
        {"price": {"currency": "CNY", "unit_price": "NaN"}},
        {"trial": {"quota": 0, "validity_days": 1}},
        {"trial": {"quota": True, "validity_days": 1}},
        {"trial": {"quota": "10", "validity_days": 1}},
        {"model_id": "has#hash"},
        {"unit": None},
    ],
)
def test_bad_catalogs_are_refused(overrides: dict[str, object]) -> None:
    with pytest.raises(CatalogError):
        parse_catalog(_document(**overrides))


def test_duplicate_models_are_refused() -> None:
    model = json.loads(_document())["models"][0]
    with pytest.raises(CatalogError, match="duplicate"):
        parse_catalog(json.dumps({"models": [model, model]}))


def test_catalog_replaced_by_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CATALOG_JSON", _document(model_id="from-env"))
    load_catalog.cache_clear()
    try:
        assert list(load_catalog()) == ["from-env"]
        monkeypatch.delenv("CATALOG_JSON")
        path = tmp_path / "catalog.json"
        path.write_text(_document(model_id="from-file"))
        monkeypatch.setenv("CATALOG_FILE", str(path))
        load_catalog.cache_clear()
        assert list(load_catalog()) == ["from-file"]
    finally:
        load_catalog.cache_clear()


def test_catalog_is_loaded_once_per_container(monkeypatch: pytest.MonkeyPatch) -> None:
    load_catalog.cache_clear()
    try:
        first = load_catalog()
        monkeypatch.setenv("CATALOG_JSON", _document(model_id="later"))
        assert load_catalog() is first
    finally:
        load_catalog.cache_clear()
