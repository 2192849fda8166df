"""The Pydantic schemas of the HTTP contract, one module per part of it: ``common`` (what every
route shares), ``console`` (the claim function's), ``gateway`` (the consume function's hot routes),
``listings`` (the usage and grant ledger pages) and ``corrections`` (reversals, the operators').

A function imports at init the schemas of its hot routes only (docs/performance.md, "Handler
init"); it names the others as ``schemas.listings.X`` in string annotations (the handlers'
``from __future__ import annotations``), which Powertools resolves on a route's first request, when
this package's ``__getattr__`` imports the module (PEP 562). ``load_all`` imports every one, before
a SnapStart snapshot."""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # what __getattr__ answers at run time, for the type checker
    from . import common, console, corrections, gateway, listings

__all__ = ["common", "console", "corrections", "gateway", "listings", "load_all"]
MODULES = ("common", "console", "gateway", "listings", "corrections")


def __getattr__(name: str) -> ModuleType:
    if name in MODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def load_all() -> None:
    for name in MODULES:
        importlib.import_module(f"{__name__}.{name}")
