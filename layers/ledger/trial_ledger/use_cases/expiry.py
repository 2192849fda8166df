"""Nightly expiry: every due grant's remainder recorded as expired, exactly once (R5, R11).

The same run marks the grants that expire soon (once each), through the same sparse index. Both
passes work the index's shards side by side, sharing one time budget."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from ..clock import format_timestamp
from ..domain.index_entries import ExpiryCandidate
from ..domain.refusals import Contended, ExpiryRecorded, GrantMoved
from ..domain.state import LedgerStamp
from ..errors import TemporarilyUnavailable
from ..job_results import ExpiringSoonReport, ExpiryReport
from .context import LedgerContext
from .sharded_pages import TimeBudget, each_shard, shard_pages


class Expiry:
    def __init__(self, context: LedgerContext) -> None:
        self._context = context

    def expire_due(self, as_of: datetime, keep_going: Callable[[], bool], page_size: int, workers: int) -> ExpiryReport:
        """Record the expiry of every grant due at ``as_of`` that still holds a remainder.

        The shards of the expiry index are worked ``workers`` at a time. Stops early
        (``complete: False``) as soon as ``keep_going`` says so; what is left stays in the sparse
        index, so the next call carries on where this one stopped."""
        as_of_text = format_timestamp(as_of)
        budget, store = TimeBudget(keep_going), self._context.store

        def work(shard: str) -> list[int]:
            due = shard_pages(
                lambda start: store.queries.expiry_candidates(shard, as_of_text, page_size, start), budget
            )
            return [quantity for candidate in due if (quantity := self.expire_one(candidate, as_of_text))]

        expired = [quantity for quantities in each_shard(work, workers) for quantity in quantities]
        return ExpiryReport(as_of_text, len(expired), sum(expired), complete=not budget.spent.is_set())

    def mark_expiring_soon(
        self, as_of: datetime, window: timedelta, keep_going: Callable[[], bool], page_size: int, workers: int
    ) -> ExpiringSoonReport:
        """Mark every grant with a remainder that expires in (as_of, as_of + window], once per
        grant (a conditional write the stream turns into TrialExpiringSoon); stops as expire_due."""
        as_of_text, until, now = format_timestamp(as_of), format_timestamp(as_of + window), self._context.now_text()
        budget, store = TimeBudget(keep_going), self._context.store

        def work(shard: str) -> int:
            soon = shard_pages(
                lambda start: store.queries.expiry_candidates(shard, until, page_size, start, as_of_text), budget
            )
            return sum(
                1
                for grant in soon
                if grant.expires_at > as_of_text and store.mark_expiring_soon(grant, as_of_text, now)
            )

        return ExpiringSoonReport(as_of_text, sum(each_shard(work, workers)), complete=not budget.spent.is_set())

    def expire_one(self, candidate: ExpiryCandidate, as_of: str) -> int:
        """Expire one candidate's whole remainder; returns how much expired (0: nothing to do)."""
        # An untouched grant still holds its whole quota (its ledger: the claim alone); a wrong
        # guess costs one more write, and the refusal hands back the grant as it is, so no read
        # is needed either way.
        store, grant = self._context.store, LedgerStamp(1, 0, candidate.quota, 0)
        for _ in self._context.backoff.tries(entry_race=True):
            if grant.remaining == 0:
                store.drop_exhausted_from_index(candidate.account_id, candidate.model_id)
                return 0
            try:
                store.expire_grant(candidate, grant, as_of, self._context.now_text())
            except ExpiryRecorded:
                return 0
            except GrantMoved as refusal:
                if refusal.grant is None or refusal.grant.expires_at > as_of:
                    return 0
                grant = refusal.grant.stamp()
            except Contended:
                pass
            else:
                self._context.snapshots.forget(candidate.account_id, candidate.model_id)
                return grant.remaining
        raise TemporarilyUnavailable("expiry kept conflicting; the next run continues")
