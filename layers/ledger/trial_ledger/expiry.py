"""Nightly expiry: every due grant's remainder recorded as expired, exactly once (R5, R11).

The same run marks the grants that expire soon (once each), through the same sparse index."""

from __future__ import annotations

from collections.abc import Callable, Iterator
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

    def expire_due(self, as_of: datetime, keep_going: Callable[[], bool], page_size: int) -> ExpiryReport:
        """Record the expiry of every grant due at ``as_of`` that still holds a remainder.

        Stops early (``complete: False``) as soon as ``keep_going`` says so; what is left stays in
        the sparse index, so the next call carries on where this one stopped."""
        as_of_text = format_timestamp(as_of)
        due = _DueCandidates(self._context.store, as_of_text, page_size, keep_going)
        expired = [quantity for candidate in due if (quantity := self.expire_one(candidate, as_of_text))]
        return ExpiryReport(as_of_text, len(expired), sum(expired), complete=not due.stopped)

    def mark_expiring_soon(
        self, as_of: datetime, window: timedelta, keep_going: Callable[[], bool], page_size: int
    ) -> ExpiringSoonReport:
        """Mark every grant with a remainder that expires in (as_of, as_of + window], once per
        grant (a conditional write the stream turns into TrialExpiringSoon); stops as expire_due."""
        as_of_text, now = format_timestamp(as_of), self._context.now_text()
        soon = _DueCandidates(self._context.store, format_timestamp(as_of + window), page_size, keep_going, as_of_text)
        mark = self._context.store.mark_expiring_soon
        marked = [candidate for candidate in soon
                  if candidate.expires_at > as_of_text and mark(candidate, as_of_text, now)]  # fmt: skip
        return ExpiringSoonReport(as_of_text, len(marked), complete=not soon.stopped)

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


class _DueCandidates:
    """The due candidates of every shard, a page at a time; stops before a page when told to."""

    def __init__(
        self, store: LedgerStore, as_of: str, page_size: int, keep_going: Callable[[], bool], since: str | None = None
    ) -> None:
        self._store = store
        self._as_of = as_of
        self._since = since
        self._page_size = page_size
        self._keep_going = keep_going
        self.stopped = False

    def __iter__(self) -> Iterator[ExpiryCandidate]:
        for shard in all_expiry_shards():
            start = None
            while True:
                if not self._keep_going():
                    self.stopped = True
                    return
                candidates, start = self._store.expiry_candidates(
                    shard, self._as_of, self._page_size, start, self._since
                )
                yield from candidates
                if start is None:
                    break
