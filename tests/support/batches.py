"""Batched usage in tests: the reference (the same records sent one by one) and comparisons."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from trial_ledger import (
    InvalidRequest,
    Ledger,
    RecordOutcome,
    RecordRefusal,
    RequestIdConflict,
    UnknownModel,
    UsageAsk,
)


def one_by_one(ledger: Ledger, asks: Sequence[UsageAsk]) -> list[RecordOutcome]:
    """What a client sending the records one by one through POST /v1/usage gets back."""
    outcomes: list[RecordOutcome] = []
    for ask in asks:
        try:
            outcomes.append(
                ledger.record_usage(ask.account_id, ask.model_id, ask.quantity, ask.request_id, ask.sub_account_id)
            )
        except (InvalidRequest, UnknownModel, RequestIdConflict) as refused:
            outcomes.append(RecordRefusal(ask.request_id, refused.code, refused.detail))
    return outcomes


def renamed(asks: Sequence[UsageAsk], account_id: str, prefix: str) -> list[UsageAsk]:
    """The same records for another account, request_ids prefixed (request_ids are global)."""
    return [replace(ask, account_id=account_id, request_id=prefix + ask.request_id) for ask in asks]


def without_ids(outcome: RecordOutcome, prefix: str) -> RecordOutcome:
    """An outcome with its account and request_id prefix taken out, to compare two accounts'."""
    if isinstance(outcome, RecordRefusal):
        detail = outcome.detail.replace(prefix, "")
        return replace(outcome, request_id=(outcome.request_id or "").removeprefix(prefix), detail=detail)
    return replace(outcome, account_id="-", request_id=outcome.request_id.removeprefix(prefix))
