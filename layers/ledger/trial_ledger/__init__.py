"""trial_ledger: the DynamoDB-backed ledger of TokenHub's free-trial quotas.

The values of the console's routes, of the gateway's, of the corrections (reversals, operator
actions, the grant's ledger) and of the nightly jobs are imported on first use: each API function's
cold start imports its own only (docs/performance.md, "Handler init")."""

import importlib
from typing import TYPE_CHECKING, Any

from .clock import Clock, SwitchableClock, SystemClock, format_timestamp, parse_timestamp
from .config.catalog import Catalog, ModelSpec, Price, Trial, parse_catalog
from .config.settings import Settings, SettingsError, load_catalog, load_settings
from .domain.rules import format_money
from .errors import (
    AccountNotActivated,
    AdmissionRefused,
    GrantNotExtendable,
    GrantNotFound,
    GrantNotVoidable,
    HoldNotFound,
    InvalidCursor,
    InvalidRequest,
    LedgerError,
    RequestIdConflict,
    ReversalWindowClosed,
    TemporarilyUnavailable,
    UnknownModel,
    UsageNotFound,
)
from .ledger import Ledger
from .results import (
    AlertsSource,
    ClaimMethod,
    ClaimOutcomeKind,
    FundingSource,
    Grant,
    GrantStatus,
    HoldStatus,
    StopReason,
)

if TYPE_CHECKING:
    from .console_results import Account, Alerts, ClaimAvailability, ClaimOutcome, UsagePage
    from .correction_results import (
        ActionAsk,
        ActionResult,
        Balances,
        EntryKind,
        LedgerEntry,
        LedgerPage,
        ReversalResult,
        SupportView,
    )
    from .gateway_results import (
        Authorization,
        HoldAsk,
        HoldResult,
        RecordOutcome,
        RecordRefusal,
        ReleaseResult,
        UsageAsk,
        UsageResult,
    )
    from .job_results import ExpiryReport, SweepReport

_ON_FIRST_USE = {
    **dict.fromkeys(("ActionAsk", "ActionResult", "Balances", "EntryKind", "LedgerEntry", "LedgerPage",
                     "ReversalResult", "SupportView"), "correction_results"),
    **dict.fromkeys(("ExpiryReport", "SweepReport"), "job_results"),
    **dict.fromkeys(("Account", "Alerts", "ClaimAvailability", "ClaimOutcome", "UsagePage"), "console_results"),
    **dict.fromkeys(("Authorization", "HoldAsk", "HoldResult", "RecordOutcome", "RecordRefusal", "ReleaseResult",
                     "UsageAsk", "UsageResult"), "gateway_results"),
}  # fmt: skip
"""The public names whose modules are imported on first use (the docstring): name -> module."""


def __getattr__(name: str) -> Any:
    if (module := _ON_FIRST_USE.get(name)) is not None:
        return getattr(importlib.import_module(f"{__name__}.{module}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "Account",
    "AccountNotActivated",
    "ActionAsk",
    "ActionResult",
    "AdmissionRefused",
    "Alerts",
    "AlertsSource",
    "Authorization",
    "Balances",
    "Catalog",
    "ClaimAvailability",
    "ClaimMethod",
    "ClaimOutcome",
    "ClaimOutcomeKind",
    "Clock",
    "EntryKind",
    "ExpiryReport",
    "FundingSource",
    "Grant",
    "GrantNotExtendable",
    "GrantNotFound",
    "GrantNotVoidable",
    "GrantStatus",
    "HoldAsk",
    "HoldNotFound",
    "HoldResult",
    "HoldStatus",
    "InvalidCursor",
    "InvalidRequest",
    "Ledger",
    "LedgerEntry",
    "LedgerError",
    "LedgerPage",
    "ModelSpec",
    "Price",
    "RecordOutcome",
    "RecordRefusal",
    "ReleaseResult",
    "RequestIdConflict",
    "ReversalResult",
    "ReversalWindowClosed",
    "Settings",
    "SettingsError",
    "StopReason",
    "SupportView",
    "SweepReport",
    "SwitchableClock",
    "SystemClock",
    "TemporarilyUnavailable",
    "Trial",
    "UnknownModel",
    "UsageAsk",
    "UsageNotFound",
    "UsagePage",
    "UsageResult",
    "format_money",
    "format_timestamp",
    "load_catalog",
    "load_settings",
    "parse_catalog",
    "parse_timestamp",
]
