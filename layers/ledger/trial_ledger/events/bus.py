"""Puts ledger events on the stack's EventBridge bus, never dropping one, sending each once if it can.

PutEvents takes at most 10 entries per call, so the events of a whole stream batch are sent
together, 10 a call, up to ``concurrency`` calls at a time. EventBridge may refuse some entries of
a call and accept the others (``FailedEntryCount``, an ``ErrorCode`` such as
``ThrottlingException`` on each refused entry), or refuse the whole call (it raises, e.g.
``ThrottlingException``: none of its entries was taken). The refused entries, and only they, are
sent again, in fresh calls of 10, after a backoff; the accepted ones never are. What the bus still
refuses after every attempt is returned by ``publish_all`` (the events function fails the stream
records that produced it, alone, and Lambda delivers them again: the ids make the repeat
harmless) or raised as ``PublishFailed`` by ``publish``. One case can repeat an entry: a call that
raised after EventBridge took it (a timeout on the way back); consumers de-duplicate by
``event_id``, as the contract says."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ..clock import parse_timestamp
from ..retry import Backoff
from .derivation import SOURCE, LedgerEvent

MAX_ENTRIES_PER_CALL = 10
DEFAULT_BACKOFF = Backoff(attempts=6, base_seconds=0.1, cap_seconds=2.0)
"""Up to 5 waits of a random share of 0.1, 0.2, 0.4, 0.8 and 1.6 s (at most 3.1 s in all): long
enough for a throttled second to pass, short against the function's 60 s timeout."""


class PublishFailed(Exception):
    """Some events were still refused after every attempt."""


class EventBus:
    def __init__(self, client: Any, bus_name: str, backoff: Backoff | None = None, concurrency: int = 1) -> None:
        self._client = client
        self._bus_name = bus_name
        self._backoff = backoff or DEFAULT_BACKOFF
        self._concurrency = max(1, concurrency)
        self._pool: ThreadPoolExecutor | None = None

    def publish(self, events: Sequence[LedgerEvent]) -> None:
        refused = self.publish_all(events)
        if refused:
            reasons = "; ".join(f"{event_id}: {reason}" for event_id, reason in refused.items())
            raise PublishFailed(f"{len(refused)} event(s) refused by the bus: {reasons}")

    def publish_all(self, events: Iterable[LedgerEvent]) -> dict[str, str]:
        """Put every event on the bus; return the ids of those still refused after every attempt,
        each with the bus's last reason (empty: all were taken). An id given twice is sent once."""
        pending = list({event.event_id: event for event in events}.values())
        refused: dict[str, str] = {}
        for _ in self._backoff.tries():  # it sleeps before each attempt but the first
            refused = self._send(pending) if pending else {}
            pending = [event for event in pending if event.event_id in refused]
            if not pending:
                return {}
        return refused

    def _send(self, events: list[LedgerEvent]) -> dict[str, str]:
        """One round: every event once, 10 a call; the refused ones' ids and reasons."""
        calls = [events[start : start + MAX_ENTRIES_PER_CALL] for start in range(0, len(events), MAX_ENTRIES_PER_CALL)]
        if self._concurrency > 1 and len(calls) > 1:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self._concurrency, thread_name_prefix="put-events")
            answers = list(self._pool.map(self._put, calls))
        else:
            answers = [self._put(call) for call in calls]
        return {event_id: reason for answer in answers for event_id, reason in answer.items()}

    def _put(self, events: list[LedgerEvent]) -> dict[str, str]:
        entries = [self.entry(event) for event in events]
        try:
            response = self._client.put_events(Entries=entries)
        except Exception as error:  # the whole call refused (throttled, unreachable): none was taken
            reason = _error_code(error)
            return {event.event_id: reason for event in events}
        if not response.get("FailedEntryCount"):
            return {}
        results = zip(events, response["Entries"], strict=True)
        return {event.event_id: f"{result.get('ErrorCode')} {result.get('ErrorMessage', '')}".strip()
                for event, result in results if result.get("ErrorCode")}  # fmt: skip

    def entry(self, event: LedgerEvent) -> dict[str, Any]:
        return {
            "Source": SOURCE,
            "DetailType": event.detail_type.value,
            "Detail": json.dumps(event.detail, separators=(",", ":")),
            "EventBusName": self._bus_name,
            "Time": parse_timestamp(event.occurred_at),
        }


def _error_code(error: Exception) -> str:
    """The service's error code of a refused call (botocore's ``ClientError``), else its type."""
    response = getattr(error, "response", None)
    code = response.get("Error", {}).get("Code") if isinstance(response, dict) else None
    return f"{code or type(error).__name__} (the whole call)"
