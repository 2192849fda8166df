"""Bounded retries with full jitter, for the conflicts botocore does not retry itself.

They are cancelled transactions and optimistic checks that lost a race."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Backoff:
    """How conflicts are retried: how many times, how long between tries, and for an entry race how
    long in all."""

    attempts: int = 8
    base_seconds: float = 0.005
    cap_seconds: float = 0.2
    entry_race_seconds: float = 6.0
    """The waiting budget of a write that appends to a grant's ledger (R19): entries of one grant
    are serialized, so under contention each round has one winner and the rest learn its grant
    from the refusal; a refusal is progress made by another writer, not an outage. It retries
    until it has waited this long (inside the functions' 10 s, with the requests' own time), not a
    number of times."""
    entry_race_attempts: int = 200
    """At most this many, whatever the jitter drew."""
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False)
    jitter: Callable[[], float] = field(default=random.random, compare=False)

    def tries(self, entry_race: bool = False) -> Iterator[int]:
        """Yield attempt numbers; before every attempt but the first, sleep a random share of an
        exponentially growing, capped delay (AWS's "full jitter"). ``entry_race``: retry until
        ``entry_race_seconds`` of waiting instead of ``attempts`` times."""
        waited, attempt = 0.0, 0
        racing = entry_race and attempt < self.entry_race_attempts
        while attempt < self.attempts or (racing and waited < self.entry_race_seconds):
            if attempt:
                delay = self.jitter() * min(self.cap_seconds, self.base_seconds * 2 ** min(attempt - 1, 16))
                self.sleep(delay)
                waited += delay
            yield attempt
            attempt += 1
            racing = entry_race and attempt < self.entry_race_attempts
