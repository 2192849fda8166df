"""What this container last saw of grants and profiles: expectations for the next write.

A snapshot is only ever an *expectation*: writes are conditioned on it, and a stale snapshot
makes the condition fail and return the item as it is. Its value is that the usual usage
needs no read before its write (the hot path is one request)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Final

from ..domain.state import GrantState, HoldRecord, ProfileState


class _Absent:
    """Marks a grant known not to exist (as opposed to one never looked at)."""


ABSENT: Final = _Absent()


class SnapshotCache:
    def __init__(self, max_entries: int = 20_000) -> None:
        self._max_entries = max_entries
        self._lock = threading.Lock()
        self._grants: OrderedDict[tuple[str, str], GrantState | _Absent] = OrderedDict()
        self._profiles: OrderedDict[str, ProfileState] = OrderedDict()
        self._holds: OrderedDict[str, HoldRecord] = OrderedDict()

    def grant(self, account_id: str, model_id: str) -> GrantState | _Absent | None:
        """The last seen grant, ABSENT if it was seen missing, None if never seen."""
        with self._lock:
            return self._grants.get((account_id, model_id))

    def profile(self, account_id: str) -> ProfileState | None:
        with self._lock:
            return self._profiles.get(account_id)

    def hold(self, request_id: str) -> HoldRecord | None:
        """The hold this container took for ``request_id`` and has not seen end: its settle then
        needs no read (elsewhere the usage's write is refused with the hold, and planned again)."""
        with self._lock:
            return self._holds.get(request_id)

    def remember_hold(self, hold: HoldRecord) -> None:
        self._put(self._holds, hold.request_id, hold)

    def forget_hold(self, request_id: str) -> None:
        with self._lock:
            self._holds.pop(request_id, None)

    def remember_grant(self, account_id: str, model_id: str, grant: GrantState | None) -> None:
        self._put(self._grants, (account_id, model_id), ABSENT if grant is None else grant)

    def remember_profile(self, profile: ProfileState) -> None:
        self._put(self._profiles, profile.account_id, profile)

    def forget(self, account_id: str, model_id: str) -> None:
        with self._lock:
            self._grants.pop((account_id, model_id), None)

    def _put[K, V](self, table: OrderedDict[K, V], key: K, value: V) -> None:
        with self._lock:
            table[key] = value
            table.move_to_end(key)
            while len(table) > self._max_entries:
                table.popitem(last=False)
