"""A grant's ledger (R19): every entry that changed the grant, oldest first, one page at a time."""

from __future__ import annotations

from ..config.settings import load_settings
from ..correction_results import LedgerEntry, LedgerPage
from ..domain.ledger_entries import claim_entry, consecutive
from ..domain.rules import require_id
from ..dynamo.indexes.cursor import decode_sequence_cursor, encode_sequence_cursor, listing_scope
from ..errors import GrantNotFound, InvalidRequest, UnknownModel
from ..limits import MAX_LEDGER_PAGE
from .context import LedgerContext


class GrantLedgers:
    def __init__(self, context: LedgerContext) -> None:
        self._context = context

    def page(self, account_id: str, model_id: str, limit: int, cursor: str | None) -> LedgerPage:
        """Up to ``limit`` entries after the cursor's; ``next_cursor`` is None once the page ends at
        the grant's last entry, as a consistent read of the grant counts them."""
        require_id(account_id, "account_id")
        require_id(model_id, "model_id")
        if self._context.catalog.get(model_id) is None:
            raise UnknownModel(model_id)
        if not 1 <= limit <= MAX_LEDGER_PAGE:
            raise InvalidRequest(f"limit must be from 1 to {MAX_LEDGER_PAGE}", field="limit")
        scope = listing_scope("ledger", account_id, model_id, load_settings().grant_ledger_shards.read)
        after = decode_sequence_cursor(cursor, scope) if cursor else 0
        _, grants = self._context.store.read_account(account_id, [model_id])
        grant = grants.get(model_id)
        if grant is None:
            raise GrantNotFound(account_id, model_id)
        entries: list[LedgerEntry] = [claim_entry(grant)] if after == 0 else []
        shown = max(after, 1)
        if len(entries) < limit and shown < grant.entries:
            stored = self._context.store.queries.grant_entries(
                account_id, model_id, shown, limit - len(entries), grant.entries
            )
            entries += consecutive(shown, stored, grant.entries)
        last = entries[-1].sequence if entries else after
        return LedgerPage(entries, encode_sequence_cursor(last, scope) if last < grant.entries else None)
