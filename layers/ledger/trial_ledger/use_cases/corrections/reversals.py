"""Reversals (R17): a recorded usage undone once, within its window, by a new ledger entry."""

from __future__ import annotations

from decimal import Decimal

from ...correction_results import ReversalResult
from ...domain.planning.reversal import plan_reversal, window_closes
from ...domain.refusals import Contended, GrantMoved, UsageChanged
from ...domain.rules import require_id, require_text
from ...domain.state import GrantState, UsageRecord
from ...errors import RequestIdConflict, ReversalWindowClosed, TemporarilyUnavailable, UsageNotFound
from ...limits import MAX_REASON_LENGTH
from ..context import LedgerContext


class Reversals:
    def __init__(self, context: LedgerContext) -> None:
        self._context = context

    def reverse(self, request_id: str, reason: str) -> ReversalResult:
        """Reverse the usage recorded as ``request_id``: its free units back to its grant (or
        expired, when the grant is no longer usable), its billable part credited (the event).
        The same reason again answers the first reversal; another reason is a conflict."""
        require_id(request_id, "request_id")
        require_text(reason, "reason", MAX_REASON_LENGTH)
        context = self._context
        usage = self._usage(request_id)
        # The grant as this container last saw it (its usage path keeps it): a stale one is
        # refused by the write, which hands back the grant as it is.
        seen = context.snapshots.grant(usage.account_id, usage.model_id)
        grant = seen if isinstance(seen, GrantState) else None
        for _ in context.backoff.tries(entry_race=True):
            if usage.reversal is not None:
                return self._reversed_before(usage, reason)
            now = context.clock.now()
            closes = window_closes(usage, context.reversal_window)
            if context.now_text() >= closes:
                raise ReversalWindowClosed(request_id, closes)
            if usage.free and grant is None:
                _, grant = context.read_grant(usage.account_id, usage.model_id)
            commit = plan_reversal(usage, grant, reason, now)
            try:
                context.store.reversals.commit(commit)
            except UsageChanged as changed:
                usage = changed.usage or self._usage(request_id)
            except GrantMoved as moved:
                grant = moved.grant
            except Contended:
                pass
            else:
                context.snapshots.forget(usage.account_id, usage.model_id)
                return _result(usage, commit.reversal.reversed_at, commit.reversal.free_returned,
                               commit.reversal.free_expired, replayed=False)  # fmt: skip
        raise TemporarilyUnavailable("this reversal kept conflicting; retry it with the same body")

    def _usage(self, request_id: str) -> UsageRecord:
        usage = self._context.store.get_usage(request_id)
        if usage is None:
            raise UsageNotFound(request_id)
        return usage

    @staticmethod
    def _reversed_before(usage: UsageRecord, reason: str) -> ReversalResult:
        reversal = usage.reversal
        assert reversal is not None
        if reversal.reason != reason:
            raise RequestIdConflict(usage.request_id)
        return _result(usage, reversal.reversed_at, reversal.free_returned, reversal.free_expired, replayed=True)


def _result(usage: UsageRecord, reversed_at: str, returned: int, expired: int, replayed: bool) -> ReversalResult:
    return ReversalResult(usage.request_id, reversed_at, returned, expired, usage.currency, Decimal(usage.charge),
                          replayed)  # fmt: skip
