"""Walks a sparse, sharded index (expiry candidates, open holds) a page at a time, shards side by side."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ..dynamo.keys import all_expiry_shards

Start = dict[str, Any] | None


class TimeBudget:
    """``keep_going`` shared by the shards: once it says stop, every shard stops without asking."""

    def __init__(self, keep_going: Callable[[], bool]) -> None:
        self._keep_going = keep_going
        self._asking = threading.Lock()
        self.spent = threading.Event()

    def left(self) -> bool:
        with self._asking:
            if not self.spent.is_set() and not self._keep_going():
                self.spent.set()
            return not self.spent.is_set()


def shard_pages[T](page: Callable[[Start], tuple[list[T], Start]], budget: TimeBudget) -> Iterator[T]:
    """The items of one shard, page by page (``page(start)``: one query page and the start of the
    next, None when done); stops before a page once time is up, leaving the rest in the index."""
    start: Start = None
    while budget.left():
        items, start = page(start)
        yield from items
        if start is None:
            return


def each_shard[R](work: Callable[[str], R], workers: int) -> list[R]:
    """``work`` for every shard of the index, ``workers`` shards at a time."""
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="shards") as pool:
        return list(pool.map(work, all_expiry_shards()))
