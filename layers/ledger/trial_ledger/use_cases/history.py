"""Usage history: an account's usage records, newest first, one page at a time."""

from __future__ import annotations

from ..config.settings import load_settings
from ..console_results import UsagePage
from ..domain.rules import require_id
from ..dynamo.indexes.cursor import decode_usage_cursor, encode_usage_cursor, listing_scope
from ..errors import InvalidRequest
from ..limits import MAX_USAGE_PAGE
from .context import LedgerContext


class UsageHistory:
    def __init__(self, context: LedgerContext) -> None:
        self._context = context

    def page(self, account_id: str, model_id: str | None, limit: int, cursor: str | None) -> UsagePage:
        """The account's usage records, newest first, optionally of one model; ``cursor`` is the
        ``next_cursor`` of the page before."""
        require_id(account_id, "account_id")
        if model_id is not None:
            require_id(model_id, "model_id")
        if not 1 <= limit <= MAX_USAGE_PAGE:
            raise InvalidRequest(f"limit must be from 1 to {MAX_USAGE_PAGE}", field="limit")
        scope = listing_scope("usage", account_id, model_id or "", load_settings().usage_index_shards.read)
        after = decode_usage_cursor(cursor, scope) if cursor else None
        records, resume_after = self._context.store.queries.usage_page(account_id, model_id, limit, after)
        next_cursor = encode_usage_cursor(resume_after, scope) if resume_after else None
        return UsagePage([record.result(replayed=False) for record in records], next_cursor)
