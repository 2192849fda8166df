"""A listing over a sharded index (dynamo/indexes/shard_merge.py) against a sorted model of its entries.

Shards are read as DynamoDB's Query reads one partition: up to ``n`` entries evaluated after a
position, the filter applied after the limit, and a LastEvaluatedKey (the frontier) whenever the
limit was reached. Records share timestamps across shards; one model is filtered among many; and
records are added between pages."""

from __future__ import annotations

import bisect
from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st

from trial_ledger.dynamo.indexes.shard_merge import Listing, PageAsk, ShardRead, merged_page


@dataclass(frozen=True)
class Entry:
    order: str
    model: str


class FakeIndex:
    """Shards of entries, each kept oldest first, read newest first as the usage index is."""

    def __init__(self, shards: int) -> None:
        self.shards = [f"acct#{shard}" if shard else "acct" for shard in range(shards)]
        self.entries: dict[str, list[Entry]] = {shard: [] for shard in self.shards}
        self.reads = 0

    def add(self, entry: Entry, shard: int) -> None:
        orders = [known.order for known in self.entries[self.shards[shard]]]
        self.entries[self.shards[shard]].insert(bisect.bisect(orders, entry.order), entry)

    def reader(self, model: str | None):  # type: ignore[no-untyped-def]
        def read(shard: str, before: str | None, size: int) -> ShardRead[Entry, str]:
            self.reads += 1
            newest_first = self.entries[shard][::-1]
            older = [entry for entry in newest_first if before is None or entry.order < before]
            evaluated = older[:size]
            frontier = evaluated[-1].order if len(evaluated) == size else None
            return ShardRead([e for e in evaluated if model in (None, e.model)], frontier, len(evaluated))

        return read


LISTING: Listing[Entry, str] = Listing(lambda entry: entry.order, descending=True)

# Few distinct instants, so many records share one across shards; the request id breaks the tie.
records = st.lists(
    st.tuples(
        st.integers(0, 4), st.text("abcdef", min_size=1, max_size=3), st.sampled_from("mmmmn"), st.integers(0, 7)
    ),
    max_size=40,
    unique_by=lambda record: record[1],
)


def entry_of(record: tuple[int, str, str, int]) -> tuple[Entry, int]:
    instant, request_id, model, shard = record
    return Entry(f"2026-03-01T08:00:0{instant}.000Z#{request_id}", model), shard


@dataclass(frozen=True)
class Case:
    shard_count: int
    initial: list[tuple[int, str, str, int]]
    added: list[tuple[int, str, str, int]]
    limit: int
    model: str | None
    budget: int


CASES = st.builds(Case, st.integers(1, 8), records, records, st.integers(1, 5), st.sampled_from([None, "m", "n"]),
                  st.sampled_from([3, 10, 1_000]))  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(case=CASES)
def test_pages_list_every_record_once_newest_first(case: Case) -> None:
    shard_count, initial, added, limit, model, budget = (
        case.shard_count, case.initial, case.added, case.limit, case.model, case.budget
    )  # fmt: skip
    index = FakeIndex(shard_count)
    present: set[Entry] = set()
    for record in initial:
        entry, shard = entry_of(record)
        index.add(entry, shard % shard_count)
        present.add(entry)
    shown: list[Entry] = []
    should_show = {entry for entry in present if model in (None, entry.model)}
    # A request id names one record: an added one never repeats a position already in the index.
    taken = {entry.order for entry in present}
    pending = []
    for record in added:
        entry, shard = entry_of(record)
        if entry.order not in taken:
            taken.add(entry.order)
            pending.append((entry, shard))
    after, pages = None, 0
    while True:
        page = merged_page(index.shards, index.reader(model), LISTING, PageAsk(limit, after, 2, budget))
        shown += page.items
        pages += 1
        assert len(page.items) <= limit
        assert pages < 500, "the listing does not end"
        if page.resume_after is None:
            break
        after = page.resume_after
        if pending:  # a record arrives between two pages: shown iff it sorts after the position
            entry, shard = pending.pop()
            index.add(entry, shard % shard_count)
            if model in (None, entry.model) and entry.order < after:
                should_show.add(entry)
    orders = [entry.order for entry in shown]
    assert orders == sorted(orders, reverse=True)
    assert len(set(orders)) == len(orders)
    assert set(shown) == should_show


def test_a_page_reads_only_the_shards_that_can_hold_its_entries() -> None:
    """Records of 16 shards, 10 to a page: the first read of each shard is enough for the page
    when the shards are evenly filled, and a later page reads no shard twice as often."""
    index = FakeIndex(16)
    for number in range(320):
        index.add(Entry(f"2026-03-01T08:{number // 60:02d}:{number % 60:02d}.000Z#r{number:03d}", "m"), number % 16)
    page = merged_page(index.shards, index.reader(None), LISTING, PageAsk(10, None, -(-11 // 16) + 1, 1_000))
    assert [entry.order[-4:] for entry in page.items] == [f"r{n:03d}" for n in range(319, 309, -1)]
    assert index.reads == 16


def test_an_exhausted_budget_returns_a_short_page_that_resumes_where_reading_stopped() -> None:
    index = FakeIndex(2)
    for number in range(40):
        index.add(Entry(f"2026-03-01T08:00:{number:02d}.000Z#r{number:02d}", "n" if number else "m"), number % 2)
    first = merged_page(index.shards, index.reader("m"), LISTING, PageAsk(5, None, 4, 10))
    assert first.items == []
    assert first.resume_after is not None
    after: str | None = first.resume_after
    found: list[Entry] = []
    while after is not None:
        page = merged_page(index.shards, index.reader("m"), LISTING, PageAsk(5, after, 4, 10))
        found += page.items
        after = page.resume_after
    assert [entry.order[-3:] for entry in found] == ["r00"]


def test_oldest_first_by_sequence() -> None:
    """A grant's ledger: entries numbered 1, 2, 3, ... on shard ``n % shards``, listed oldest first."""
    entries = {shard: list(range(shard or 4, 41, 4)) for shard in range(4)}

    def read(shard: str, after: int | None, size: int) -> ShardRead[int, int]:
        later = [n for n in entries[int(shard)] if n > (after or 0)][:size]
        return ShardRead(later, later[-1] if len(later) == size else None, len(later))

    listing: Listing[int, int] = Listing(lambda n: n, descending=False)
    page = merged_page(["0", "1", "2", "3"], read, listing, PageAsk(7, 3, 3, 1_000))
    assert (page.items, page.resume_after) == (list(range(4, 11)), 10)
    last = merged_page(["0", "1", "2", "3"], read, listing, PageAsk(50, 10, 13, 1_000))
    assert (last.items, last.resume_after) == (list(range(11, 41)), None)
