"""The hold sweep: closes holds that timed out, through the sparse open-holds index (R15)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from ..clock import format_timestamp
from ..domain.index_entries import OpenHold
from ..domain.refusals import Contended, GrantMoved, HoldEnded
from ..domain.writes import HoldClosing
from ..errors import TemporarilyUnavailable
from ..job_results import SweepReport
from ..results import HoldStatus
from .context import LedgerContext
from .sharded_pages import TimeBudget, each_shard, shard_pages


class HoldSweep:
    def __init__(self, context: LedgerContext) -> None:
        self._context = context

    def sweep(self, as_of: datetime, keep_going: Callable[[], bool], page_size: int) -> SweepReport:
        """Close every open hold whose ``expires_at`` is at or before ``as_of``.

        A timed-out hold already reserves nothing (its grant's available units ignore its period);
        this only writes its end: the item reads ``expired`` and leaves the index, and its units
        leave its period (the grant's next write removes the emptied period).
        Stops early (``complete: False``) when ``keep_going`` says so; the next call carries on."""
        as_of_text, store, budget = format_timestamp(as_of), self._context.store, TimeBudget(keep_going)

        def work(shard: str) -> list[int]:
            due = shard_pages(lambda start: store.queries.open_holds(shard, as_of_text, page_size, start), budget)
            return [hold.held for hold in due if self.close_one(hold, as_of_text)]

        closed = [held for helds in each_shard(work, workers=1) for held in helds]
        return SweepReport(as_of_text, len(closed), sum(closed), complete=not budget.spent.is_set())

    def close_one(self, hold: OpenHold, as_of: str) -> bool:
        """Close one timed-out hold; False when it had ended otherwise meanwhile."""
        closing = HoldClosing(hold.request_id, hold.account_id, hold.model_id, hold.held, hold.expires_at,
                              HoldStatus.EXPIRED.value, self._context.now_text(), due_by=as_of)  # fmt: skip
        with_grant = closing.with_grant
        for _ in self._context.backoff.tries():
            try:
                self._context.store.close_hold(closing, with_grant=with_grant)
            except HoldEnded:
                return False
            except GrantMoved as moved:
                # Its period is gone already (a write removed it once timed out, the grant expired,
                # or an operator voided it while the hold was live: then it ended voided, R18).
                with_grant = False
                if moved.grant is not None and moved.grant.voided_at is not None:
                    voided_at = moved.grant.voided_at
                    if voided_at < hold.expires_at:
                        closing = replace(closing, status=HoldStatus.VOIDED.value)
            except Contended:
                pass
            else:
                return True
        raise TemporarilyUnavailable("the hold sweep kept conflicting; the next run continues")
