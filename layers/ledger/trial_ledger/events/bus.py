"""Puts ledger events on the stack's EventBridge bus, never dropping one.

PutEvents takes at most 10 entries per call and may accept some entries of a call and refuse
others (``FailedEntryCount``): the refused ones, and only they, are sent again with backoff; what
still fails raises ``PublishFailed``, so that the stream record that produced it fails and is
delivered again (the events' ids make the repeat harmless to consumers)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from ..clock import parse_timestamp
from ..retry import Backoff
from .derivation import SOURCE, LedgerEvent

MAX_ENTRIES_PER_CALL = 10


class PublishFailed(Exception):
    """Some events were still refused after every attempt."""


class EventBus:
    def __init__(self, client: Any, bus_name: str, backoff: Backoff | None = None) -> None:
        self._client = client
        self._bus_name = bus_name
        self._backoff = backoff or Backoff(attempts=4, base_seconds=0.1, cap_seconds=1.0)

    def publish(self, events: Sequence[LedgerEvent]) -> None:
        for start in range(0, len(events), MAX_ENTRIES_PER_CALL):
            self._put(list(events[start : start + MAX_ENTRIES_PER_CALL]))

    def _put(self, pending: list[LedgerEvent]) -> None:
        errors: list[str] = []
        for _ in self._backoff.tries():
            response = self._client.put_events(Entries=[self.entry(event) for event in pending])
            if not response.get("FailedEntryCount"):
                return
            refused = [(event, result) for event, result in zip(pending, response["Entries"], strict=True)
                       if result.get("ErrorCode")]  # fmt: skip
            pending = [event for event, _ in refused]
            errors = [f"{event.event_id}: {result.get('ErrorCode')} {result.get('ErrorMessage', '')}".strip()
                      for event, result in refused]  # fmt: skip
        raise PublishFailed(f"{len(pending)} event(s) refused by the bus: {'; '.join(errors)}")

    def entry(self, event: LedgerEvent) -> dict[str, Any]:
        return {
            "Source": SOURCE,
            "DetailType": event.detail_type.value,
            "Detail": json.dumps(event.detail, separators=(",", ":")),
            "EventBusName": self._bus_name,
            "Time": parse_timestamp(event.occurred_at),
        }
