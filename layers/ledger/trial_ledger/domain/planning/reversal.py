"""Plans the reversal of one recorded usage (R17): its mark, its entry, and its grant's balances.

The free units go back to the grant, or are recorded as expired when it is no longer usable."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from ...clock import format_timestamp, parse_timestamp
from ..state import GrantState, LedgerStamp, Reversal, UsageRecord


@dataclass(frozen=True, slots=True)
class ReversalCommit:
    """One reversal, written in one transaction or not at all: the record's mark, the reversal's
    item (the grant ledger's entry when free units move) and the grant's balances."""

    usage: UsageRecord
    reversal: Reversal
    entry: LedgerStamp | None
    """None when the usage drew nothing free: the grant does not change, no ledger entry."""
    expected_entries: int = 1
    """The grant's ledger ends at this entry when the plan was made (proven by the write)."""
    peak_used: int = 0
    """The grant's highest ``used`` so far, kept as the reversal lowers ``used``."""
    revives: bool = False
    """Units go back to a grant whose remainder is 0: it leaves ``exhausted``, re-enters the expiry
    index, and the account's ``revivals`` count moves (see ProfileState)."""

    @property
    def now(self) -> str:
        return self.reversal.reversed_at

    @property
    def usable(self) -> bool:
        """The grant was still usable: the units went back to ``remaining``."""
        return self.reversal.free_expired == 0


def window_closes(usage: UsageRecord, window: timedelta) -> str:
    """The instant the usage can no longer be reversed: ``window`` after its ``recorded_at``."""
    return format_timestamp(parse_timestamp(usage.recorded_at) + window)


def plan_reversal(usage: UsageRecord, grant: GrantState | None, reason: str, now: datetime) -> ReversalCommit:
    """Give back exactly what the usage drew free (R9): to ``remaining`` while its grant is usable
    at ``now``, else to ``expired`` at once (R5: its remainder is unusable from ``expires_at`` on)."""
    now_text = format_timestamp(now)
    free = usage.free
    if not free:
        return ReversalCommit(usage, Reversal(now_text, reason, 0, 0), None)
    assert grant is not None, "a usage that drew free units has its grant"
    usable = grant.is_usable(now_text)
    returned, expired = (free, 0) if usable else (0, free)
    stamp = LedgerStamp(grant.entries + 1, grant.used - free, grant.remaining + returned, grant.expired + expired)
    return ReversalCommit(
        usage,
        Reversal(now_text, reason, returned, expired),
        stamp,
        expected_entries=grant.entries,
        peak_used=max(grant.peak_used, grant.used),
        revives=returned > 0 and grant.remaining == 0,
    )
