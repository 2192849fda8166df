"""The index queries, one request per method: the store's collaborator for listings.

Usage pages, expiry candidates, open holds, and the audit's full read. Read-only, but that an
expiry candidate still at its claim key is moved to its own first (legacy_grants.py), as the
writes that follow address it there."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ...config.settings import load_settings
from ...domain.index_entries import ExpiryCandidate, OpenHold
from ...domain.ledger_entries import StoredEntry
from ...domain.state import UsageRecord
from .. import mapping
from ..corrections import entry_mapping
from ..errors import unavailable_on_transient
from ..items import USAGE_BY_ACCOUNT_INDEX, CallItem, EntryItem, GrantItem, LedgerItem, UsageByAccount, UsageItem
from ..keys import ACCOUNT_KEY_PREFIX, ledger_grant_key, shard_key, shard_keys, usage_order
from ..legacy_grants import LegacyGrants
from .shard_merge import Listing, PageAsk, ShardRead, merged_page

FILTERED_PAGE = 250
"""Records read per round of a listing of one model's usage (a filter over the account's)."""
MAX_ITEMS_EVALUATED = 1_000
"""At most about this many records are read for one listing call (a console page: bounded time)."""


class IndexQueries:
    def __init__(self, legacy: LegacyGrants) -> None:
        self._legacy = legacy

    def usage_page(
        self, account_id: str, model_id: str | None, limit: int, after: str | None
    ) -> tuple[list[UsageRecord], str | None]:
        """Up to ``limit`` usage records, newest first, after the usage-index sort key ``after``,
        and the sort key to resume after (None: nothing follows).

        The account's records are spread over the index's shards (keys.usage_shard_key); the page
        merges them (shard_merge). One index serves both listings; a model's records are filtered
        from the account's, reading about MAX_ITEMS_EVALUATED records per call, so a page of a rare
        model among many may come back short, with a position to resume from."""
        shards = shard_keys(account_id, load_settings().usage_index_shards.read)
        per_round = limit + 1 if model_id is None else FILTERED_PAGE
        page = merged_page(
            shards,
            lambda shard, start, size: self._usage_shard(shard, model_id, start, size),
            Listing(usage_index_order, descending=True),
            PageAsk(limit, after, first_read=-(-per_round // len(shards)) + 1, max_evaluated=MAX_ITEMS_EVALUATED),
        )
        return page.items, page.resume_after

    def _usage_shard(
        self, shard: str, model_id: str | None, before: str | None, size: int
    ) -> ShardRead[UsageRecord, str]:
        """One Query of one shard of the usage index, newest first, older than ``before``
        (eventually consistent, as every GSI read)."""
        model_filter = None if model_id is None else UsageItem.model_id == model_id
        older = None if before is None else UsageByAccount.usage_order < before
        with unavailable_on_transient():
            page: dict[str, Any] = UsageItem._get_connection().query(
                shard, range_key_condition=older, index_name=USAGE_BY_ACCOUNT_INDEX, filter_condition=model_filter,
                limit=size, scan_index_forward=False,
            )  # fmt: skip
        last = page.get("LastEvaluatedKey")
        return ShardRead(
            [mapping.usage_record(UsageItem.from_raw_data(raw)) for raw in page.get("Items", [])],
            None if last is None else last[UsageByAccount.usage_order.attr_name]["S"],
            int(page.get("ScannedCount", 0)),
        )

    def grant_entries(self, account_id: str, model_id: str, after: int, limit: int, last: int) -> list[StoredEntry]:
        """Up to ``limit`` entries of the grant's ledger after entry ``after``, oldest first, of the
        grant's ``last`` (eventually consistent: the newest may not show yet, and the caller stops
        before a gap).

        Entry ``n`` was written to shard ``n mod GrantLedgerShards`` (or to shard 0, before the
        shards): those are read first, one Query each. Only when an entry is not there (written
        under another shard count) are all the shards a listing reads merged."""
        base, layout = ledger_grant_key(account_id, model_id), load_settings().grant_ledger_shards
        wanted = list(range(after + 1, min(after + limit, last) + 1))
        likely = {shard_key(base, sequence % layout.write) for sequence in wanted} | {base}
        entries = self._ledger_page(sorted(likely), after, limit)
        everywhere = shard_keys(base, layout.read)
        if [entry.stamp.sequence for entry in entries] == wanted or likely.issuperset(everywhere):
            return entries  # complete, or a gap that reading every shard again would not fill
        return self._ledger_page(everywhere, after, limit)

    def _ledger_page(self, shards: list[str], after: int, limit: int) -> list[StoredEntry]:
        page = merged_page(
            shards,
            self._ledger_shard,
            Listing(_sequence, descending=False),
            PageAsk(limit, after, first_read=-(-limit // len(shards)) + 1, max_evaluated=MAX_ITEMS_EVALUATED),
        )
        return page.items

    def _ledger_shard(self, shard: str, after: int | None, size: int) -> ShardRead[StoredEntry, int]:
        with unavailable_on_transient():
            result = EntryItem.ledger.query(shard, EntryItem.ledger_seq > (after or 0), limit=size, page_size=size)
            entries = [entry_mapping.stored_entry(item) for item in result]
            last = result.last_evaluated_key
        return ShardRead(entries, None if last is None else int(last["ledger_seq"]["N"]), len(entries))

    def expiry_candidates(
        self, shard: str, as_of: str, page_size: int, start: dict[str, Any] | None, since: str | None = None
    ) -> tuple[list[ExpiryCandidate], dict[str, Any] | None]:
        """One page of grants due at ``as_of`` (and not before ``since``, when given) in one shard
        of the sparse index, soonest first."""
        due = GrantItem.expires_at <= as_of if since is None else GrantItem.expires_at.between(since, as_of)
        with unavailable_on_transient():
            result = GrantItem.candidates.query(
                shard, due, limit=page_size, page_size=page_size, last_evaluated_key=start
            )
            items = list(result)
            if claimed_before := [(i.account_id, i.model_id) for i in items if i.pk.startswith(ACCOUNT_KEY_PREFIX)]:
                self._legacy.move_if_legacy(claimed_before)
            return [
                ExpiryCandidate(item.account_id, item.model_id, int(item.quota), item.expires_at) for item in items
            ], result.last_evaluated_key

    def open_holds(
        self, shard: str, as_of: str, page_size: int, start: dict[str, Any] | None
    ) -> tuple[list[OpenHold], dict[str, Any] | None]:
        """One page of open holds timed out at ``as_of`` in one shard of the sparse index."""
        with unavailable_on_transient():
            # Through the base class: a hold whose item took a usage after it timed out is a
            # UsageItem, still open until closed here.
            result = CallItem.open_holds.query(
                shard, CallItem.expires_at <= as_of, limit=page_size, page_size=page_size, last_evaluated_key=start
            )
            return [_open_hold(item) for item in result], result.last_evaluated_key

    def all_items(self) -> Iterable[LedgerItem]:
        """Every item of the table (the audit's full read; never on a request path)."""
        with unavailable_on_transient():
            yield from LedgerItem.scan()


def usage_index_order(record: UsageRecord) -> str:
    """A usage record's sort key in the usage index: its place in the listing."""
    return usage_order(record.recorded_at, record.request_id)


def _sequence(entry: StoredEntry) -> int:
    return entry.stamp.sequence


def _open_hold(item: CallItem) -> OpenHold:
    return OpenHold(item.request_id, item.account_id, item.model_id, int(item.held), item.expires_at)


def _expiry_candidate(item: GrantItem) -> ExpiryCandidate:
    return ExpiryCandidate(item.account_id, item.model_id, int(item.quota), item.expires_at)
