"""Nightly expiry: every due grant's remainder recorded as expired, exactly once (R5, R11)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from .clock import format_timestamp
from .context import LedgerContext
from .errors import TemporarilyUnavailable
from .refusals import Contended, ExpiryRecorded, GrantMoved
from .sharded_pages import ShardedPages
from .state import ExpiryCandidate
from .views import ExpiryReport


class Expiry:
    def __init__(self, context: LedgerContext) -> None:
        self._context = context

    def expire_due(self, as_of: datetime, keep_going: Callable[[], bool], page_size: int) -> ExpiryReport:
        """Record the expiry of every grant due at ``as_of`` that still holds a remainder.

        Stops early (``complete: False``) as soon as ``keep_going`` says so; what is left stays in
        the sparse index, so the next call carries on where this one stopped."""
        as_of_text = format_timestamp(as_of)
        store = self._context.store
        due = ShardedPages[ExpiryCandidate](
            lambda shard, start: store.expiry_candidates(shard, as_of_text, page_size, start), keep_going
        )
        expired = [quantity for candidate in due if (quantity := self.expire_one(candidate, as_of_text))]
        return ExpiryReport(as_of_text, len(expired), sum(expired), complete=not due.stopped)

    def expire_one(self, candidate: ExpiryCandidate, as_of: str) -> int:
        """Expire one candidate's whole remainder; returns how much expired (0: nothing to do)."""
        # An untouched grant still holds its whole quota; a wrong guess costs one more write,
        # and the refusal hands back the grant as it is, so no read is needed either way.
        store, remaining = self._context.store, candidate.quota
        for _ in self._context.backoff.tries():
            if remaining == 0:
                store.drop_exhausted_from_index(candidate.account_id, candidate.model_id)
                return 0
            try:
                store.expire_grant(candidate, remaining, as_of, self._context.now_text())
            except ExpiryRecorded:
                return 0
            except GrantMoved as refusal:
                if refusal.grant is None or refusal.grant.expires_at > as_of:
                    return 0
                remaining = refusal.grant.remaining
            except Contended:
                pass
            else:
                self._context.snapshots.forget(candidate.account_id, candidate.model_id)
                return remaining
        raise TemporarilyUnavailable("expiry kept conflicting; the next run continues")
