"""Bounded retries with full jitter, for the conflicts botocore does not retry itself.

They are cancelled transactions and optimistic checks that lost a race."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Backoff:
    attempts: int = 8
    base_seconds: float = 0.005
    cap_seconds: float = 0.2
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False)
    jitter: Callable[[], float] = field(default=random.random, compare=False)

    def tries(self) -> Iterator[int]:
        """Yield attempt numbers; before every attempt but the first, sleep a random share of an
        exponentially growing, capped delay (AWS's "full jitter")."""
        for attempt in range(self.attempts):
            if attempt:
                self.sleep(self.jitter() * min(self.cap_seconds, self.base_seconds * 2 ** (attempt - 1)))
            yield attempt
