"""The index queries, read-only, one request per method: the store's collaborator for listings.

Usage pages, expiry candidates, open holds, and the audit's full read."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..domain.ledger_entries import StoredEntry
from ..domain.state import ExpiryCandidate, OpenHold, UsageRecord
from . import cursor, mapping
from .corrections import entry_mapping
from .errors import unavailable_on_transient
from .items import USAGE_BY_ACCOUNT_INDEX, CallItem, EntryItem, GrantItem, LedgerItem, UsageItem
from .keys import ledger_grant_key

FILTERED_PAGE = 250
"""Records read per Query when listing one model's usage (a filter over the account's)."""
MAX_ITEMS_EVALUATED = 1_000
"""At most this many records are read for one listing call (a console page: bounded time)."""


class IndexQueries:
    def usage_page(
        self, account_id: str, model_id: str | None, limit: int, after: tuple[str, str] | None
    ) -> tuple[list[UsageRecord], tuple[str, str] | None]:
        """Up to ``limit`` usage records, newest first, after the ``(usage_order, request_id)``
        position, and the position to resume after (None: nothing follows).

        One index serves both listings; a model's records are filtered from the account's, reading
        at most MAX_ITEMS_EVALUATED records per call, so a page of a rare model among many may come
        back short, with a position to resume from."""
        start = cursor.usage_index_start(account_id, after) if after else None
        records: list[UsageRecord] = []
        evaluated = 0
        while True:
            page = self._usage_index_page(account_id, model_id, limit + 1 if model_id is None else FILTERED_PAGE, start)
            records += [mapping.usage_record(UsageItem.from_raw_data(raw)) for raw in page.get("Items", [])]
            evaluated += int(page.get("ScannedCount", 0))
            start = page.get("LastEvaluatedKey")
            if len(records) > limit:
                return records[:limit], cursor.usage_position(records[limit - 1])
            if start is None:
                return records, None
            if evaluated >= MAX_ITEMS_EVALUATED:
                return records, cursor.usage_position_of_key(start)

    def _usage_index_page(
        self, account_id: str, model_id: str | None, page_size: int, start: dict[str, Any] | None
    ) -> dict[str, Any]:
        """One Query of the usage index, newest first (eventually consistent, as every GSI read)."""
        model_filter = None if model_id is None else UsageItem.model_id == model_id
        with unavailable_on_transient():
            page: dict[str, Any] = UsageItem._get_connection().query(
                account_id, index_name=USAGE_BY_ACCOUNT_INDEX, filter_condition=model_filter,
                exclusive_start_key=start, limit=page_size, scan_index_forward=False,
            )  # fmt: skip
        return page

    def grant_entries(self, account_id: str, model_id: str, after: int, limit: int) -> list[StoredEntry]:
        """Up to ``limit`` entries of the grant's ledger after entry ``after``, oldest first: one
        Query of the grant-ledger index (eventually consistent: the newest may not show yet)."""
        with unavailable_on_transient():
            entries = EntryItem.ledger.query(
                ledger_grant_key(account_id, model_id), EntryItem.ledger_seq > after, limit=limit
            )
            return [entry_mapping.stored_entry(item) for item in entries]

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
            candidates = [mapping.expiry_candidate(item) for item in result]
            return candidates, result.last_evaluated_key

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
            return [mapping.open_hold(item) for item in result], result.last_evaluated_key

    def all_items(self) -> Iterable[LedgerItem]:
        """Every item of the table (the audit's full read; never on a request path)."""
        with unavailable_on_transient():
            yield from LedgerItem.scan()
