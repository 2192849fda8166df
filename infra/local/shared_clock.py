"""The local stack's test clock, shared by the emulator and every container process.

The emulator owns it (``PUT``/``DELETE /_local/clock``); each container reads it on every call to
``now()``, so a freeze is seen by all functions at once, as the injectable clock of the ledger
expects. The state is one signed 64-bit integer in shared memory: microseconds since the epoch,
or ``REAL_TIME`` when the clock follows the system's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from multiprocessing.context import SpawnContext
from multiprocessing.sharedctypes import Synchronized

from trial_ledger.clock import truncate

REAL_TIME = -(2**63)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)
"""The range a test clock may be frozen in: four-digit years, so that timestamps keep their fixed
width (string order is time order) and a grant's validity added to "now" cannot overflow."""


class ClockOutOfRange(ValueError):
    pass


def _micros(moment: datetime) -> int:
    return (moment - EPOCH) // timedelta(microseconds=1)


class SharedClock:
    """A clock in shared memory: real time until frozen. Picklable into spawned processes."""

    def __init__(self, context: SpawnContext) -> None:
        self._cell: Synchronized[int] = context.Value("q", REAL_TIME)

    def now(self) -> datetime:
        micros = self._cell.value
        if micros == REAL_TIME:
            return truncate(datetime.now(UTC))
        return EPOCH + timedelta(microseconds=micros)

    def freeze(self, moment: datetime) -> None:
        moment = truncate(moment)
        if not EARLIEST <= moment < LATEST:
            raise ClockOutOfRange(f"the test clock runs from {EARLIEST.year} to {LATEST.year - 1}")
        self._cell.value = _micros(moment)

    def unfreeze(self) -> None:
        self._cell.value = REAL_TIME

    @property
    def frozen(self) -> bool:
        return self._cell.value != REAL_TIME
