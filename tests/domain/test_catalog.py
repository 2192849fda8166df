"""The catalog: default contents (SPEC section 1) and strict parsing (replacing it: test_settings.py)."""

import json
from decimal import Decimal

import pytest

from trial_ledger.config.catalog import CatalogError, default_catalog_document, parse_catalog


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
