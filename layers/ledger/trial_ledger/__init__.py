"""trial_ledger: the DynamoDB-backed ledger of TokenHub's free-trial quotas."""

from .catalog import Catalog, ModelSpec, Price, Trial, load_catalog, parse_catalog
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
    "parse_catalog",
    "parse_timestamp",
]
