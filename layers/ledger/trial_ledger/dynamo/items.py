"""PynamoDB models of the one ledger table (its key formats are in keys.py beside it).

The schema is declared in template.yaml; these classes only name the attributes the code reads
and writes."""

from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    DiscriminatorAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, IncludeProjection
from pynamodb.models import Model

from ..config.settings import load_settings

_SETTINGS = load_settings()

EXPIRY_INDEX = "expiry-candidates"
USAGE_BY_ACCOUNT_INDEX = "usage-by-account"
OPEN_HOLDS_INDEX = "open-holds"


class _TableMeta:
    table_name = _SETTINGS.table_name
    region = _SETTINGS.region
    host = _SETTINGS.endpoint_url
    connect_timeout_seconds = 2
    read_timeout_seconds = 5
    max_retry_attempts = 3  # botocore "standard" mode: exponential backoff with full jitter


class LedgerItem(Model):
    class Meta(_TableMeta):
        pass

    pk = UnicodeAttribute(hash_key=True, attr_name="PK")
    sk = UnicodeAttribute(range_key=True, attr_name="SK")
    item_type = DiscriminatorAttribute()


class ExpiryCandidates(GlobalSecondaryIndex["GrantItem"]):
    """Sparse: only grants that still hold a free remainder carry ``expiry_shard``."""

    class Meta:
        index_name = EXPIRY_INDEX
        projection = IncludeProjection(["item_type", "account_id", "model_id", "quota"])

    expiry_shard = UnicodeAttribute(hash_key=True)
    expires_at = UnicodeAttribute(range_key=True)


class OpenHolds(GlobalSecondaryIndex["HoldItem"]):
    """Sparse: only open holds that reserve units carry ``open_shard``."""

    class Meta:
        index_name = OPEN_HOLDS_INDEX
        projection = IncludeProjection(["item_type", "request_id", "account_id", "model_id", "held", "status"])

    open_shard = UnicodeAttribute(hash_key=True)
    expires_at = UnicodeAttribute(range_key=True)


class UsageByAccount(GlobalSecondaryIndex["UsageItem"]):
    class Meta:
        index_name = USAGE_BY_ACCOUNT_INDEX
        projection = AllProjection()

    usage_account = UnicodeAttribute(hash_key=True)
    usage_order = UnicodeAttribute(range_key=True)


class AccountProfileItem(LedgerItem, discriminator="profile"):
    account_id = UnicodeAttribute()
    activated_at = UnicodeAttribute(null=True)
    postpaid_enabled = BooleanAttribute(default=False)
    updated_at = UnicodeAttribute()


class GrantItem(LedgerItem, discriminator="grant"):
    """The claim entry (written once: quota, validity, method, time) and the grant's running
    balances, which only move by conditional updates."""

    account_id = UnicodeAttribute()
    model_id = UnicodeAttribute()
    unit = UnicodeAttribute()
    quota = NumberAttribute()
    used = NumberAttribute()
    remaining = NumberAttribute()
    expired = NumberAttribute()
    claim_method = UnicodeAttribute()
    claimed_at = UnicodeAttribute()
    claimed_by = UnicodeAttribute(null=True)
    expires_at = UnicodeAttribute()
    expiry_shard = UnicodeAttribute(null=True)
    expired_recorded_at = UnicodeAttribute(null=True)
    expiring_soon_notified_at = UnicodeAttribute(null=True)
    """Set once by the nightly run; the table's stream turns it into TrialExpiringSoon."""
    held_units: MapAttribute[str, object] = MapAttribute(default=dict)
    """request_id -> units of each open hold with units (``held_until`` has the same keys)."""
    held_until: MapAttribute[str, object] = MapAttribute(default=dict)
    """request_id -> the hold's ``expires_at``: it reserves nothing from then on."""
    held_total = NumberAttribute(default=0)
    """The sum of ``held_units`` (timed-out entries included until removed)."""
    unreserved = NumberAttribute(default=0)
    """Always ``remaining - held_total``: what relaxed writes may take without knowing the holds."""
    candidates = ExpiryCandidates()


class UsageItem(LedgerItem, discriminator="usage"):
    """One metered invocation, keyed by the caller's request_id; never updated."""

    request_id = UnicodeAttribute()
    account_id = UnicodeAttribute()
    model_id = UnicodeAttribute()
    sub_account_id = UnicodeAttribute(null=True)
    quantity = NumberAttribute()
    free = NumberAttribute()
    billable = NumberAttribute()
    unbilled_overage = NumberAttribute()
    currency = UnicodeAttribute()
    unit_price = UnicodeAttribute()
    charge = UnicodeAttribute()
    free_remaining = NumberAttribute(null=True)
    auto_claimed = BooleanAttribute()
    recorded_at = UnicodeAttribute()
    fingerprint = UnicodeAttribute()
    write_id = UnicodeAttribute()
    usage_account = UnicodeAttribute()
    usage_order = UnicodeAttribute()
    by_account = UsageByAccount()


class ExpiryItem(LedgerItem, discriminator="expiry"):
    """The expiry of one grant's free remainder; at most one per grant."""

    account_id = UnicodeAttribute()
    model_id = UnicodeAttribute()
    quantity = NumberAttribute()
    expires_at = UnicodeAttribute()
    as_of = UnicodeAttribute()
    recorded_at = UnicodeAttribute()


class HoldItem(LedgerItem, discriminator="hold"):
    """One hold, keyed by the caller's request_id: its request, what it reserved, how it ended."""

    request_id = UnicodeAttribute()
    account_id = UnicodeAttribute()
    model_id = UnicodeAttribute()
    sub_account_id = UnicodeAttribute(null=True)
    estimate = NumberAttribute()
    held = NumberAttribute()
    source = UnicodeAttribute()
    free_available = NumberAttribute(null=True)
    auto_claimed = BooleanAttribute()
    created_at = UnicodeAttribute()
    expires_at = UnicodeAttribute()
    ttl_seconds = NumberAttribute()
    status = UnicodeAttribute()
    closed_at = UnicodeAttribute(null=True)
    fingerprint = UnicodeAttribute()
    write_id = UnicodeAttribute()
    open_shard = UnicodeAttribute(null=True)
    open_holds = OpenHolds()
