"""An account's usage index and a grant's ledger spread over shards (docs/ledger.md): listings
merge the shards, the shard counts may change between deploys, and items written before the
shards existed still list."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support import IMAGE, LANG_90
from trial_ledger import InvalidCursor, Ledger, SwitchableClock
from trial_ledger.config.settings import load_settings
from trial_ledger.dynamo.items import CallItem
from trial_ledger.dynamo.keys import call_key, usage_order

Deploy = Callable[..., None]


@pytest.fixture
def deploy(monkeypatch: pytest.MonkeyPatch) -> Iterator[Deploy]:
    """Set the shard counts as a deploy would (the functions read them at their next cold start)."""

    def set_counts(usage: str | None = None, ledger: str | None = None) -> None:
        for variable, value in (("USAGE_INDEX_SHARDS", usage), ("GRANT_LEDGER_SHARDS", ledger)):
            if value is not None:
                monkeypatch.setenv(variable, value)
        load_settings.cache_clear()

    yield set_counts
    monkeypatch.undo()
    load_settings.cache_clear()


def listed(ledger: Ledger, account_id: str, limit: int = 3, model_id: str | None = None) -> list[str]:
    seen, cursor = [], None
    while True:
        page = ledger.usage(account_id, model_id=model_id, limit=limit, cursor=cursor)
        seen += [item.request_id for item in page.items]
        if page.next_cursor is None:
            return seen
        cursor = page.next_cursor


def ledger_sequences(ledger: Ledger, account_id: str, model_id: str, limit: int = 4) -> list[int]:
    seen, cursor = [], None
    while True:
        page = ledger.grant_ledger(account_id, model_id, limit=limit, cursor=cursor)
        seen += [entry.sequence for entry in page.entries]
        if page.next_cursor is None:
            return seen
        cursor = page.next_cursor


def record(ledger: Ledger, clock: SwitchableClock, ids: list[str], model_id: str = LANG_90) -> None:
    for request_id in ids:
        ledger.record_usage("a", model_id, 1, request_id)
        clock.advance(timedelta(milliseconds=500))


def test_records_spread_over_the_shards_and_list_newest_first(ledger: Ledger, clock: SwitchableClock) -> None:
    ids = [f"r{index:02d}" for index in range(40)]
    record(ledger, clock, ids)
    keys = {CallItem.get(call_key(request_id), "USAGE").usage_account for request_id in ids}
    assert len(keys) > 8
    assert all(key == "a" or key.startswith("a#") for key in keys)
    assert listed(ledger, "a", limit=7) == ids[::-1]
    assert ledger_sequences(ledger, "a", LANG_90, limit=6) == list(range(1, 42))


def test_a_shard_count_raised_or_lowered_between_deploys_still_lists_every_record(
    ledger: Ledger, clock: SwitchableClock, deploy: Deploy
) -> None:
    deploy(usage="4", ledger="4")
    record(ledger, clock, [f"four-{index}" for index in range(10)])
    deploy(usage="16", ledger="32")  # raised
    record(ledger, clock, [f"sixteen-{index}" for index in range(10)])
    everything = [f"four-{index}" for index in range(10)] + [f"sixteen-{index}" for index in range(10)]
    assert listed(ledger, "a") == everything[::-1]
    assert ledger_sequences(ledger, "a", LANG_90) == list(range(1, 22))
    deploy(usage="2,16", ledger="3,32")  # lowered: listings keep reading the wider layout
    record(ledger, clock, [f"two-{index}" for index in range(10)])
    everything += [f"two-{index}" for index in range(10)]
    assert listed(ledger, "a", limit=4) == everything[::-1]
    assert ledger_sequences(ledger, "a", LANG_90, limit=5) == list(range(1, 32))


def test_records_written_before_the_shards_still_list(ledger: Ledger, clock: SwitchableClock, deploy: Deploy) -> None:
    """The one-partition layout wrote ``usage_account = account_id``: shard 0 of every layout."""
    deploy(usage="1", ledger="1")
    record(ledger, clock, ["old-1", "old-2"], IMAGE)
    assert CallItem.get(call_key("old-1"), "USAGE").usage_account == "a"
    assert CallItem.get(call_key("old-1"), "USAGE").ledger_grant == f"a#{IMAGE}"
    deploy(usage="16", ledger="32")
    record(ledger, clock, [f"new-{index}" for index in range(6)], IMAGE)
    assert listed(ledger, "a", limit=2) == [f"new-{index}" for index in range(5, -1, -1)] + ["old-2", "old-1"]
    assert ledger_sequences(ledger, "a", IMAGE, limit=3) == list(range(1, 10))


def test_a_cursor_of_another_shard_layout_is_refused(ledger: Ledger, clock: SwitchableClock, deploy: Deploy) -> None:
    record(ledger, clock, [f"r{index}" for index in range(4)])
    usage_cursor = ledger.usage("a", limit=1).next_cursor
    ledger_cursor = ledger.grant_ledger("a", LANG_90, limit=1).next_cursor
    deploy(usage="8", ledger="8")
    with pytest.raises(InvalidCursor):
        ledger.usage("a", limit=1, cursor=usage_cursor)
    with pytest.raises(InvalidCursor):
        ledger.grant_ledger("a", LANG_90, limit=1, cursor=ledger_cursor)


def test_the_support_view_merges_the_shards(ledger: Ledger, clock: SwitchableClock) -> None:
    ids = [f"r{index:02d}" for index in range(30)]
    record(ledger, clock, ids)
    view = ledger.support_view("a")
    newest = [usage.request_id for usage in view.usage.items]
    assert newest == ids[::-1][: len(newest)]
    assert len(newest) >= 10


# Few instants (records share them across shards), two models, records added between pages.
RECORDS = st.lists(st.tuples(st.integers(0, 2), st.sampled_from([LANG_90, LANG_90, IMAGE])), min_size=1, max_size=25)


EXAMPLES = itertools.count()


@dataclass(frozen=True)
class Listing:
    records: list[tuple[int, str]]
    added: list[tuple[int, str]]
    limit: int
    model: str | None
    shards: str


LISTINGS = st.builds(Listing, RECORDS, RECORDS, st.integers(1, 4), st.sampled_from([None, IMAGE]),
                     st.sampled_from(["3", "16"]))  # fmt: skip


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(listing=LISTINGS)
def test_every_page_matches_a_sorted_model_of_the_records(
    ledger: Ledger, clock: SwitchableClock, deploy: Deploy, listing: Listing
) -> None:
    records, added, limit, model = listing.records, listing.added, listing.limit, listing.model
    deploy(usage=listing.shards)
    account = f"acct-{next(EXAMPLES)}"
    start = clock.now()
    known: dict[str, tuple[str, str]] = {}  # request id -> (usage index order, model)

    def put(tag: str, index: int, instant: int, model_id: str) -> None:
        request_id = f"{account}-{tag}{index:02d}"
        clock.freeze(start + timedelta(milliseconds=instant))
        usage = ledger.record_usage(account, model_id, 1, request_id)
        known[request_id] = (usage_order(usage.recorded_at, request_id), usage.model_id)

    for index, (instant, model_id) in enumerate(records):
        put("z", index, instant, model_id)
    expected = {rid for rid, (_, m) in known.items() if model in (None, m)}
    shown: list[str] = []
    cursor = None
    arriving = list(enumerate(added))
    while True:
        page = ledger.usage(account, model_id=model, limit=limit, cursor=cursor)
        shown += [item.request_id for item in page.items]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
        if arriving:  # a record recorded between two pages, at a shared instant
            index, (instant, model_id) = arriving.pop()
            put("a", index, instant, model_id)
            last_shown = known[shown[-1]][0] if shown else None
            arrived = f"{account}-a{index:02d}"
            if model in (None, model_id) and last_shown is not None and known[arrived][0] < last_shown:
                expected.add(arrived)
    orders = [known[request_id][0] for request_id in shown]
    assert orders == sorted(orders, reverse=True)
    assert len(set(shown)) == len(shown)
    assert set(shown) == expected
    clock.freeze(start + timedelta(seconds=10))


def test_a_ledger_page_reads_the_shards_its_entries_were_written_to(
    ledger: Ledger, clock: SwitchableClock, dynamo_calls: Any, deploy: Deploy
) -> None:
    """Entry n is on shard n mod 32: a page of 3 entries reads those shards and shard 0 (one
    Query each), not all 32; an entry written under another count is found by reading them all."""
    record(ledger, clock, [f"r{index}" for index in range(6)])
    cursor = ledger.grant_ledger("a", LANG_90, limit=2).next_cursor
    dynamo_calls.calls.clear()
    page = ledger.grant_ledger("a", LANG_90, limit=3, cursor=cursor)
    assert [entry.sequence for entry in page.entries] == [3, 4, 5]
    shards = [params["ExpressionAttributeValues"][":0"]["S"] for name, params in dynamo_calls.calls if name == "Query"]
    assert sorted(shards) == sorted([f"a#{LANG_90}", f"a#{LANG_90}#3", f"a#{LANG_90}#4", f"a#{LANG_90}#5"])
    deploy(ledger="4,32")  # entries 8.. go to n mod 4; a page over 6..9 finds 6 and 7 only on reading all 32
    record(ledger, clock, [f"s{index}" for index in range(4)])
    cursor = ledger.grant_ledger("a", LANG_90, limit=5).next_cursor
    page = ledger.grant_ledger("a", LANG_90, limit=4, cursor=cursor)
    assert [entry.sequence for entry in page.entries] == [6, 7, 8, 9]


def test_a_cursor_stays_small_with_the_longest_ids(ledger: Ledger, clock: SwitchableClock) -> None:
    """Within 1 KB at the default shard count, with 128-character account, model filter and ids."""
    account, longest = "a" * 128, [f"{index}" + "r" * 127 for index in range(3)]
    for request_id in longest:
        ledger.record_usage(account, LANG_90, 1, request_id)
        clock.advance(timedelta(seconds=1))
    usage_cursor = ledger.usage(account, model_id=LANG_90, limit=1).next_cursor
    ledger_cursor = ledger.grant_ledger(account, LANG_90, limit=1).next_cursor
    assert usage_cursor is not None
    assert ledger_cursor is not None
    assert len(usage_cursor) <= 300
    assert len(ledger_cursor) <= 100
    second = ledger.usage(account, model_id=LANG_90, limit=1, cursor=usage_cursor)
    assert [item.request_id for item in second.items] == [longest[1]]
