"""Nightly expiry: every due grant's remainder recorded as expired, exactly once (R5, R11).

The same run marks the grants that expire soon (once each), through the same sparse index. Both
passes work the index's shards side by side, sharing one time budget."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

from .clock import format_timestamp
from .context import LedgerContext
from .errors import TemporarilyUnavailable
from .keys import all_expiry_shards
from .refusals import Contended, ExpiryRecorded, GrantMoved
from .state import ExpiryCandidate
from .store import LedgerStore
from .views import ExpiringSoonReport, ExpiryReport


class Expiry:
    def __init__(self, context: LedgerContext) -> None:
        self._context = context

    def expire_due(self, as_of: datetime, keep_going: Callable[[], bool], page_size: int, workers: int) -> ExpiryReport:
        """Record the expiry of every grant due at ``as_of`` that still holds a remainder.

        The shards of the expiry index are worked ``workers`` at a time. Stops early
        (``complete: False``) as soon as ``keep_going`` says so; what is left stays in the sparse
        index, so the next call carries on where this one stopped."""
        as_of_text = format_timestamp(as_of)
        budget = _TimeBudget(keep_going)

        def work(shard: str) -> list[int]:
            due = _DueCandidates(self._context.store, shard, _Span(None, as_of_text), page_size, budget)
            return [quantity for candidate in due if (quantity := self.expire_one(candidate, as_of_text))]

        expired = [quantity for quantities in _each_shard(work, workers) for quantity in quantities]
        return ExpiryReport(as_of_text, len(expired), sum(expired), complete=not budget.spent.is_set())

    def mark_expiring_soon(
        self, as_of: datetime, window: timedelta, keep_going: Callable[[], bool], page_size: int, workers: int
    ) -> ExpiringSoonReport:
        """Mark every grant with a remainder that expires in (as_of, as_of + window], once per
        grant (a conditional write the stream turns into TrialExpiringSoon); stops as expire_due."""
        as_of_text, until, now = format_timestamp(as_of), format_timestamp(as_of + window), self._context.now_text()
        budget, mark = _TimeBudget(keep_going), self._context.store.mark_expiring_soon

        def work(shard: str) -> int:
            soon = _DueCandidates(self._context.store, shard, _Span(as_of_text, until), page_size, budget)
            return sum(1 for grant in soon if grant.expires_at > as_of_text and mark(grant, as_of_text, now))

        return ExpiringSoonReport(as_of_text, sum(_each_shard(work, workers)), complete=not budget.spent.is_set())

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


def _each_shard[R](work: Callable[[str], R], workers: int) -> list[R]:
    """``work`` for every shard of the expiry index, ``workers`` shards at a time."""
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="expiry") as pool:
        return list(pool.map(work, all_expiry_shards()))


class _TimeBudget:
    """``keep_going`` shared by the shards: once it says stop, every shard stops without asking."""

    def __init__(self, keep_going: Callable[[], bool]) -> None:
        self._keep_going = keep_going
        self._asking = threading.Lock()
        self.spent = threading.Event()

    def left(self) -> bool:
        with self._asking:
            if not self.spent.is_set() and not self._keep_going():
                self.spent.set()
            return not self.spent.is_set()


@dataclass(frozen=True, slots=True)
class _Span:
    """Candidates expiring after ``since`` (any, when None) and at or before ``until``."""

    since: str | None
    until: str


class _DueCandidates:
    """The candidates of one shard in a span, a page at a time; stops before a page once time is up."""

    def __init__(self, store: LedgerStore, shard: str, span: _Span, page_size: int, budget: _TimeBudget) -> None:
        self._store, self._shard, self._span = store, shard, span
        self._page_size = page_size
        self._budget = budget

    def __iter__(self) -> Iterator[ExpiryCandidate]:
        start = None
        while True:
            if not self._budget.left():
                return
            candidates, start = self._store.expiry_candidates(
                self._shard, self._span.until, self._page_size, start, self._span.since
            )
            yield from candidates
            if start is None:
                return
