"""The key formats of the ledger table's items and indexes, in one place."""

from __future__ import annotations

import uuid

PROFILE_SORT_KEY = "PROFILE"
CALL_SORT_KEY = "USAGE"
REVERSAL_SORT_KEY = "REVERSAL"
ACTION_SORT_KEY = "ACTION"


def action_key(action_id: str) -> str:
    """Partition key of an operator action (R18), by its idempotency key."""
    return f"ACTION#{action_id}"


EXPIRY_SHARDS = 16
"""Grants waiting to expire are spread over this many index partitions (see docs/ledger.md)."""

# Ids never contain "#" (see rules.ID_PATTERN), so "#" separates key parts without ambiguity.


ACCOUNT_KEY_PREFIX = "ACCOUNT#"


def account_key(account_id: str) -> str:
    """Partition key of an account's profile, claims (R1) and expiry entries."""
    return f"{ACCOUNT_KEY_PREFIX}{account_id}"


GRANT_SORT_KEY = "GRANT"


def grant_key(account_id: str, model_id: str) -> tuple[str, str]:
    """A grant's item: a partition of its own, so that usage of an account's grants is written to as
    many partitions as it has grants (docs/ledger.md, "Keys")."""
    return f"GRANT#{account_id}#{model_id}", GRANT_SORT_KEY


def claim_key(account_id: str, model_id: str) -> tuple[str, str]:
    """R1's key: the account's one item of its claim of the model, put once, ever. It holds the
    claim's mark, or, for a grant claimed before grants had keys of their own, the grant itself
    until it is moved (dynamo/legacy_grants.py)."""
    return account_key(account_id), f"GRANT#{model_id}"


def expiry_sort_key(model_id: str) -> str:
    return f"EXPIRY#{model_id}"


USAGE_KEY_PREFIX = "USAGE#"


def call_key(request_id: str) -> str:
    """Partition key of what a request_id names, its hold and its usage: one item per id, ever
    (usage records written before holds shared it keep their key)."""
    return f"{USAGE_KEY_PREFIX}{request_id}"


def ledger_grant_key(account_id: str, model_id: str) -> str:
    """A grant's name in the grant-ledger index: the key of its shard 0 (see shard_key)."""
    return f"{account_id}#{model_id}"


def shard_key(base: str, shard: int) -> str:
    """Partition key of shard ``shard`` of a sharded index listing (an account's usage, a grant's
    ledger). Shard 0 is the bare ``base``: what the one-partition layout wrote, so entries written
    before the shards existed list as shard 0's."""
    return base if shard == 0 else f"{base}#{shard}"


def shard_keys(base: str, shards: int) -> list[str]:
    return [shard_key(base, shard) for shard in range(shards)]


def is_shard_key_of(key: str, base: str, shards: int) -> bool:
    suffix = key.removeprefix(base)
    return suffix == "" or (suffix.startswith("#") and suffix[1:].isdigit() and 0 < int(suffix[1:]) < shards)


def usage_shard_key(account_id: str, request_id: str, shards: int) -> str:
    """The usage-index partition of a usage record: a stable spread of its request id (a record
    never moves; a batch's records fall on every shard)."""
    digest = uuid.uuid5(uuid.NAMESPACE_OID, f"usage\x00{request_id}").int
    return shard_key(account_id, digest % shards)


def ledger_shard_key(account_id: str, model_id: str, sequence: int, shards: int) -> str:
    """The grant-ledger partition of entry ``sequence``: consecutive entries on consecutive shards,
    so a grant's appends spread over all of them."""
    return shard_key(ledger_grant_key(account_id, model_id), sequence % shards)


def open_shard_of(request_id: str) -> str:
    """The open-holds index partition of a hold (spread as the expiry shards are)."""
    digest = uuid.uuid5(uuid.NAMESPACE_OID, f"hold\x00{request_id}").int
    return f"{digest % EXPIRY_SHARDS:02d}"


def usage_order(recorded_at: str, request_id: str) -> str:
    """Sort key of the usage index: time order, the request_id breaking ties."""
    return f"{recorded_at}#{request_id}"


def is_usage_order_of(order: str, request_id: str) -> bool:
    """Whether ``order`` can be the usage order key of ``request_id``."""
    return order.endswith(f"#{request_id}")


def expiry_shard_of(account_id: str, model_id: str) -> str:
    # A stable spread (not Python's salted hash) so the shard of a grant never changes.
    digest = uuid.uuid5(uuid.NAMESPACE_OID, f"{account_id}\x00{model_id}").int
    return f"{digest % EXPIRY_SHARDS:02d}"


def all_expiry_shards() -> list[str]:
    return [f"{shard:02d}" for shard in range(EXPIRY_SHARDS)]
