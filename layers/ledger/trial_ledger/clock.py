"""The one source of "now" for the ledger, and the timestamp format it stores.

Timestamps are UTC, truncated to milliseconds and written as fixed-width ISO-8601 with ``Z``
(``2026-01-02T03:04:05.678Z``), so that string order is time order inside DynamoDB conditions
and sort keys.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


def truncate(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("naive datetimes are ambiguous; pass an aware datetime")
    moment = moment.astimezone(UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def format_timestamp(moment: datetime) -> str:
    moment = truncate(moment)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_timestamp(text: str) -> datetime:
    """Parse any ISO-8601 instant with an offset (``Z`` included) into an aware UTC datetime."""
    moment = datetime.fromisoformat(text.replace("z", "Z"))
    if moment.tzinfo is None:
        raise ValueError(f"timestamp {text!r} has no UTC offset")
    return truncate(moment)


class SystemClock:
    def now(self) -> datetime:
        return truncate(datetime.now(UTC))


class SwitchableClock:
    """Real time until frozen; used by the local emulator's test clock and by tests."""

    def __init__(self, frozen_at: datetime | None = None) -> None:
        self._lock = threading.Lock()
        self._frozen_at = truncate(frozen_at) if frozen_at else None

    def now(self) -> datetime:
        with self._lock:
            frozen = self._frozen_at
        return frozen if frozen is not None else truncate(datetime.now(UTC))

    def freeze(self, moment: datetime) -> None:
        with self._lock:
            self._frozen_at = truncate(moment)

    def advance(self, delta: timedelta) -> None:
        with self._lock:
            if self._frozen_at is None:
                raise RuntimeError("only a frozen clock can be advanced")
            self._frozen_at = truncate(self._frozen_at + delta)

    def unfreeze(self) -> None:
        with self._lock:
            self._frozen_at = None

    @property
    def frozen(self) -> bool:
        return self._frozen_at is not None
