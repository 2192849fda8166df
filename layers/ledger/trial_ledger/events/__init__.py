"""Ledger events: the public surface of the events function.

Their pure derivation from stream images, and the EventBridge client that publishes them."""

from .bus import EventBus, PublishFailed
from .derivation import SOURCE, DetailType, LedgerEvent, derive_events, stream_time

__all__ = ["SOURCE", "DetailType", "EventBus", "LedgerEvent", "PublishFailed", "derive_events", "stream_time"]
