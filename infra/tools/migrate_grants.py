"""Move every grant claimed under its account's key to a key of its own (docs/operations.md,
"Grant keys"): the one-shot migration of the grant key layout. Safe to run while the service
serves, and again: a grant moves once, on the condition that nothing changed it meanwhile
(dynamo/legacy_grants.py), and the service moves any grant it meets before this has run.
``make migrate-grants`` runs it against the local stack or a deployed table.

    python -m infra.tools.migrate_grants [--endpoint-url URL] [--table NAME]
"""

from __future__ import annotations

import json
import sys

from infra.tools.table_target import parse_target


def migrate() -> dict[str, int]:
    """Move the grants of the table the ledger package is configured for; what it found and moved."""
    from trial_ledger.dynamo.store import LedgerStore

    found, moved = LedgerStore().legacy.move_all()
    return {"claimed_under_account_key": found, "moved": moved}


def main() -> int:
    parse_target(__doc__ or "")
    print(json.dumps(migrate(), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
