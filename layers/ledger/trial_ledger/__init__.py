"""trial_ledger: the DynamoDB-backed ledger of TokenHub's free-trial quotas."""

from .catalog import Catalog, ModelSpec, Price, Trial, parse_catalog
from .clock import Clock, SwitchableClock, SystemClock, format_timestamp, parse_timestamp
from .errors import (
    AccountNotActivated,
    AdmissionRefused,
    InvalidRequest,
    LedgerError,
    RequestIdConflict,
    TemporarilyUnavailable,
    UnknownModel,
)
from .ledger import Ledger
from .settings import Settings, SettingsError, load_catalog, load_settings
from .views import (
    Account,
    Authorization,
    ClaimAvailability,
    ClaimMethod,
    ClaimOutcome,
    ClaimOutcomeKind,
    ExpiryReport,
    FundingSource,
    Grant,
    GrantStatus,
    StopReason,
    UsagePage,
    UsageResult,
)

__all__ = [
    "Account",
    "AccountNotActivated",
    "AdmissionRefused",
    "Authorization",
    "Catalog",
    "ClaimAvailability",
    "ClaimMethod",
    "ClaimOutcome",
    "ClaimOutcomeKind",
    "Clock",
    "ExpiryReport",
    "FundingSource",
    "Grant",
    "GrantStatus",
    "InvalidRequest",
    "Ledger",
    "LedgerError",
    "ModelSpec",
    "Price",
    "RequestIdConflict",
    "Settings",
    "SettingsError",
    "StopReason",
    "SwitchableClock",
    "SystemClock",
    "TemporarilyUnavailable",
    "Trial",
    "UnknownModel",
    "UsagePage",
    "UsageResult",
    "format_timestamp",
    "load_catalog",
    "load_settings",
    "parse_catalog",
    "parse_timestamp",
]
