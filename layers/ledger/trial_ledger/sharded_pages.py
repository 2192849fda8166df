"""Walks a sparse, sharded index (expiry candidates, open holds) a page at a time, stopping when told."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from .keys import all_expiry_shards

Start = dict[str, Any] | None


class ShardedPages[T]:
    """The items of every shard, page by page; stops before a page once ``keep_going`` says no,
    leaving the rest in the index for the next call (``stopped`` tells)."""

    def __init__(self, page: Callable[[str, Start], tuple[list[T], Start]], keep_going: Callable[[], bool]) -> None:
        """``page(shard, start)``: one query page of one shard and the start of the next (None: done)."""
        self._page = page
        self._keep_going = keep_going
        self.stopped = False

    def __iter__(self) -> Iterator[T]:
        for shard in all_expiry_shards():
            start = None
            while True:
                if not self._keep_going():
                    self.stopped = True
                    return
                items, start = self._page(shard, start)
                yield from items
                if start is None:
                    break
