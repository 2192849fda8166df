"""One page of a listing over a sharded index, the shards' entries merged in listing order.

The listings are an account's usage and a grant's ledger; each shard is read only as far as the
page needs.

A shard is read in listing order from a position on; what a read evaluated last is that shard's
frontier. An entry is certain once every shard still being read has read past it: no shard can
then hold an entry between it and the ones before it. A page is certain entries only, so pages
neither miss nor repeat an entry, whatever the shards hold and while entries are added."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol


class Position(Protocol):
    def __lt__(self, other: Any, /) -> bool: ...


@dataclass(frozen=True, slots=True)
class ShardRead[T, P]:
    items: list[T]
    """The entries of the read that belong to the listing, in listing order."""
    frontier: P | None
    """Where the read ended (the position of the last entry it evaluated); None: the shard is done."""
    evaluated: int


@dataclass(frozen=True, slots=True)
class MergedPage[T, P]:
    items: list[T]
    resume_after: P | None
    """The position the next page starts after; None: the listing has ended."""


MAX_READ = 1_000
GROWTH = 4
"""Each further read of a shard evaluates this many times more than the one before."""


@dataclass(frozen=True, slots=True)
class Listing[T, P]:
    """A listing's order: each entry's ``position``, newest first (``descending``) or oldest first."""

    position: Callable[[T], P]
    descending: bool


@dataclass(frozen=True, slots=True)
class PageAsk[P]:
    limit: int
    after: P | None
    """The position the page starts after; None: from the start."""
    first_read: int
    """Entries evaluated per shard by the first read (each further read GROWTH times more, within
    what ``max_evaluated`` leaves)."""
    max_evaluated: int
    """Past this many entries evaluated, a page may come back short, with the position reached."""


def merged_page[T, P: Position](
    shards: Sequence[str], read: Callable[[str, P | None, int], ShardRead[T, P]], listing: Listing[T, P],
    ask: PageAsk[P],
) -> MergedPage[T, P]:  # fmt: skip
    """Up to ``ask.limit`` entries after ``ask.after``; ``read(shard, after, n)`` evaluates up to
    ``n`` entries of one shard after a position, in listing order."""
    merge = _Merge(shards, listing, ask.after)
    reading, size = list(shards), max(1, ask.first_read)
    while True:
        for shard in reading:
            merge.take(shard, read(shard, merge.frontier[shard], size))
        page = merge.page(ask)
        if page is not None:
            return page
        reading = merge.to_read(ask.limit)
        left = ask.max_evaluated - merge.evaluated
        if left < len(reading):  # not an entry a shard left to read: the page ends short
            return merge.short_page()
        size = min(size * GROWTH, MAX_READ, left // len(reading))


class _Merge[T, P: Position]:
    def __init__(self, shards: Sequence[str], listing: Listing[T, P], after: P | None) -> None:
        self.shards, self.listing = shards, listing
        self.frontier: dict[str, P | None] = dict.fromkeys(shards, after)
        self.live = set(shards)
        self.known: list[T] = []
        self.evaluated = 0

    def before(self, a: P, b: P) -> bool:
        """Whether position ``a`` comes before ``b`` in the listing."""
        return b < a if self.listing.descending else a < b

    def take(self, shard: str, got: ShardRead[T, P]) -> None:
        self.known += got.items
        self.evaluated += got.evaluated
        if got.frontier is None:
            self.live.discard(shard)
        else:
            self.frontier[shard] = got.frontier

    def page(self, ask: PageAsk[P]) -> MergedPage[T, P] | None:
        """The page, once what is certain fills it (or nothing is left to read); else None."""
        position = self.listing.position
        self.known.sort(key=position, reverse=self.listing.descending)
        if not self.live:
            return _page(self.known, position, ask.limit)
        certain = self._certain()
        if len(certain) > ask.limit:
            return _page(certain, position, ask.limit)
        if self.evaluated >= ask.max_evaluated:
            return self.short_page()
        return None

    def short_page(self) -> MergedPage[T, P]:
        """What is certain, resuming after the least advanced shard's frontier (the budget is spent)."""
        return MergedPage(self._certain(), self._least_advanced())

    def _certain(self) -> list[T]:
        """The known entries up to the least advanced shard's frontier, in listing order."""
        bound, position = self._least_advanced(), self.listing.position
        return [item for item in self.known if not self.before(bound, position(item))]

    def to_read(self, limit: int) -> list[str]:
        """The shards still being read that may hold an entry of the page."""
        live = [shard for shard in self.shards if shard in self.live]
        if len(self.known) <= limit:
            return live
        cutoff = self.listing.position(self.known[limit])
        return [shard for shard in live if (point := self.frontier[shard]) is None or self.before(point, cutoff)]

    def _least_advanced(self) -> P:
        """The frontier of the shard read least far: every entry up to it is known."""
        points = [point for shard in self.live if (point := self.frontier[shard]) is not None]
        least = points[0]
        for point in points[1:]:
            if self.before(point, least):
                least = point
        return least


def _page[T, P](items: list[T], position: Callable[[T], P], limit: int) -> MergedPage[T, P]:
    if len(items) > limit:
        return MergedPage(items[:limit], position(items[limit - 1]))
    return MergedPage(items, None)
