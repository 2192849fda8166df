"""Catalogs for tests beyond the default one."""

from __future__ import annotations

import json

from trial_ledger.config.catalog import Catalog, parse_catalog


def wide_catalog(models: int) -> Catalog:
    """A catalog of ``models`` language models with a trial each (``m-000``, ``m-001``, ...)."""
    spec = {"name": "m", "capability": "language", "unit": "tokens", "trial": {"quota": 100, "validity_days": 90},
            "price": {"currency": "CNY", "unit_price": "0.001"}}  # fmt: skip
    return parse_catalog(json.dumps({"models": [{"model_id": f"m-{n:03d}", **spec} for n in range(models)]}))
