"""Domain errors, each with the stable ``code`` of the contract.

The HTTP edge maps codes to statuses; nothing here knows about HTTP."""

from __future__ import annotations


class LedgerError(Exception):
    code: str = "ledger_error"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class InvalidRequest(LedgerError):
    """An argument the ledger refuses to act on (the edge normally catches these first)."""

    code = "validation_error"

    def __init__(self, detail: str, field: str) -> None:
        super().__init__(detail)
        self.field = field


class InvalidCursor(LedgerError):
    """A listing cursor this listing did not issue: altered, cut short, or another listing's."""

    code = "invalid_cursor"

    def __init__(self) -> None:
        super().__init__("cursor is not one this listing issued: start again without it")


class AccountNotActivated(LedgerError):
    code = "account_not_activated"


class UnknownModel(LedgerError):
    code = "unknown_model"

    def __init__(self, model_id: str) -> None:
        super().__init__(f"model {model_id!r} is not in the catalog")
        self.model_id = model_id


class RequestIdConflict(LedgerError):
    code = "request_id_conflict"

    def __init__(self, request_id: str) -> None:
        super().__init__(f"request_id {request_id!r} was already recorded with a different body")
        self.request_id = request_id


class HoldNotFound(LedgerError):
    code = "hold_not_found"

    def __init__(self, request_id: str) -> None:
        super().__init__(f"no hold was ever taken with request_id {request_id!r}")
        self.request_id = request_id


class GrantNotFound(LedgerError):
    code = "grant_not_found"

    def __init__(self, account_id: str, model_id: str) -> None:
        super().__init__(f"account {account_id!r} has no grant of model {model_id!r}")


class UsageNotFound(LedgerError):
    code = "usage_not_found"

    def __init__(self, request_id: str) -> None:
        super().__init__(f"no usage was ever recorded with request_id {request_id!r}")
        self.request_id = request_id


class ReversalWindowClosed(LedgerError):
    code = "reversal_window_closed"

    def __init__(self, request_id: str, closed_at: str) -> None:
        super().__init__(f"the usage {request_id!r} could be reversed until {closed_at}")
        self.request_id = request_id


class GrantNotExtendable(LedgerError):
    code = "grant_not_extendable"

    def __init__(self, account_id: str, model_id: str) -> None:
        super().__init__(
            f"the grant of {account_id!r} for {model_id!r} has expired or was voided: it cannot be extended"
        )


class GrantNotVoidable(LedgerError):
    code = "grant_not_voidable"

    def __init__(self, account_id: str, model_id: str) -> None:
        super().__init__(
            f"the grant of {account_id!r} for {model_id!r} has expired or was voided already: it cannot be voided"
        )


class AdmissionRefused(LedgerError):
    """No usable free quota and postpaid is off (R7). ``code`` is the stop reason."""

    def __init__(self, reason: str, model_id: str) -> None:
        super().__init__(f"{reason.replace('_', ' ')} for model {model_id!r}; enable postpaid to continue")
        self.code = reason
        self.model_id = model_id


class TemporarilyUnavailable(LedgerError):
    """DynamoDB kept throttling, conflicting or timing out after the bounded retries. Nothing
    partial is left (every write is one request); after a timeout the write may have landed, so a
    usage is retried with the same request_id, which is answered from its record if it did."""

    code = "temporarily_unavailable"

    def __init__(self, detail: str, retry_after_seconds: int = 1) -> None:
        super().__init__(detail)
        self.retry_after_seconds = retry_after_seconds
