"""Hold periods: a hold's end is rounded up to the next period boundary (R13a).

A grant keeps one total per period end instead of one entry per hold, so its item, and the cost
of every write to it, stay bounded however many holds are live: their ends all lie within the
longest TTL plus one period of now."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ..clock import format_timestamp, parse_timestamp

HOLD_PERIOD_SECONDS = 60
"""The fixed hold period: a hold's ``expires_at`` is the next multiple of it (a ceiling: an
instant already on a boundary stays). The contract allows at most 60 seconds."""


def period_end(moment: datetime) -> datetime:
    """The first period boundary at or after ``moment``."""
    epoch = moment.timestamp()
    boundary = -(-int(epoch * 1000) // (HOLD_PERIOD_SECONDS * 1000)) * HOLD_PERIOD_SECONDS
    return datetime.fromtimestamp(boundary, UTC)


def hold_expiry(now: datetime, ttl_seconds: int, grant_expires_at: str | None) -> str:
    """A hold's ``expires_at``: ``now + ttl_seconds`` rounded up to a period boundary, and never
    after the validity of the grant it reserves units of (R15)."""
    rounded = format_timestamp(period_end(now + timedelta(seconds=ttl_seconds)))
    return rounded if grant_expires_at is None else min(rounded, grant_expires_at)


def period_of(expires_at: str) -> str:
    """The period a hold ending at ``expires_at`` counts in: the boundary at or after it (itself,
    unless the grant's validity cut the hold short)."""
    return format_timestamp(period_end(parse_timestamp(expires_at)))
