"""PynamoDB models of the one ledger table (its key formats are in keys.py beside it).

The schema is declared in template.yaml; these classes only name the attributes the code reads
and writes."""

from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    DiscriminatorAttribute,
    ListAttribute,
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
GRANT_LEDGER_INDEX = "grant-ledger"
GRANT_LEDGER_PROJECTION = [
    "item_type", "request_id", "recorded_at", "free", "quantity", "free_returned", "free_expired",
    "reason", "action_id", "actor", "action_kind", "balance_used", "balance_remaining", "balance_expired",
]  # fmt: skip
"""What a grant ledger entry shows (R19), on every kind of entry item (template.yaml says the same)."""


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


class OpenHolds(GlobalSecondaryIndex["CallItem"]):
    """Sparse: only open holds that reserve units carry ``open_shard``."""

    class Meta:
        index_name = OPEN_HOLDS_INDEX
        projection = IncludeProjection(["item_type", "request_id", "account_id", "model_id", "held", "status"])

    open_shard = UnicodeAttribute(hash_key=True)
    expires_at = UnicodeAttribute(range_key=True)


class UsageByAccount(GlobalSecondaryIndex["CallItem"]):
    class Meta:
        index_name = USAGE_BY_ACCOUNT_INDEX
        projection = AllProjection()

    usage_account = UnicodeAttribute(hash_key=True)
    usage_order = UnicodeAttribute(range_key=True)


class GrantLedger(GlobalSecondaryIndex["EntryItem"]):
    """Sparse: only the entries of a grant's ledger (R19) carry ``ledger_grant``, numbered in
    ``ledger_seq`` (the claim, entry 1, is the grant item itself and is not in it)."""

    class Meta:
        index_name = GRANT_LEDGER_INDEX
        projection = IncludeProjection(GRANT_LEDGER_PROJECTION)

    ledger_grant = UnicodeAttribute(hash_key=True)
    ledger_seq = NumberAttribute(range_key=True)


class AccountProfileItem(LedgerItem, discriminator="profile"):
    account_id = UnicodeAttribute()
    activated_at = UnicodeAttribute(null=True)
    postpaid_enabled = BooleanAttribute(default=False)
    updated_at = UnicodeAttribute()
    revivals = NumberAttribute(null=True)
    """Reversals that gave units back to an exhausted grant of the account (absent: none)."""
    balance_low_percent = ListAttribute(of=NumberAttribute, null=True)
    """The account's own TrialBalanceLow thresholds, ascending (R20); absent: the deploy's."""
    grants_claimed = NumberAttribute(null=True)
    """Grants created since it was first counted (every claim adds its own): the version an
    alerts change proves, so that it knows every grant it must write."""


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
    voided_at = UnicodeAttribute(null=True)
    """Set once by an operator's void (R18)."""
    expiring_soon_notified_at = UnicodeAttribute(null=True)
    """Set once by the nightly run; the table's stream turns it into TrialExpiringSoon."""
    held_units: MapAttribute[str, object] = MapAttribute(default=dict)
    """Hold period end (epoch seconds) -> the units of the open holds ending then (R13a: bounded,
    never one entry per hold; see hold_periods.py)."""
    held_total = NumberAttribute(default=0)
    """The sum of ``held_units`` (timed-out periods included until removed)."""
    unreserved = NumberAttribute(default=0)
    """Always ``remaining - held_total``: what relaxed writes may take without knowing the holds."""
    peak_used = NumberAttribute(null=True)
    """The highest ``used`` before a reversal lowered it (absent: never lowered; see GrantState)."""
    entries = NumberAttribute(null=True)
    """The sequence number of its ledger's last entry (R19; absent on a grant of before v3: 1)."""
    alert_thresholds = ListAttribute(of=NumberAttribute, null=True)
    """The account's TrialBalanceLow thresholds (R20) as at the claim or the last alerts change;
    absent: the deploy's. The events function reads them from the stream's new image."""
    moved_from = UnicodeAttribute(null=True)
    """The partition key a grant was claimed under, when it was moved to its own (legacy_grants.py):
    its put is no claim, and the events function publishes nothing for it."""
    candidates = ExpiryCandidates()


class ClaimMarkItem(LedgerItem, discriminator="claim"):
    """The account's mark of a claim (keys.claim_key), put with its grant: R1's proof that the
    model was claimed, and the account's list of its grants (their items have keys of their own)."""

    account_id = UnicodeAttribute()
    model_id = UnicodeAttribute()
    claimed_at = UnicodeAttribute()


class EntryItem(LedgerItem):
    """An item that may be an entry of its grant's ledger (R19): then it carries the grant, its
    sequence number and the grant's balances after it, and the grant-ledger index lists it."""

    ledger_grant = UnicodeAttribute(null=True)
    ledger_seq = NumberAttribute(null=True)
    balance_used = NumberAttribute(null=True)
    balance_remaining = NumberAttribute(null=True)
    balance_expired = NumberAttribute(null=True)
    ledger = GrantLedger()


class CallItem(EntryItem):
    """What one request_id names, keyed by it (``USAGE#<request_id>``): a call's hold, its usage, or
    both. A request_id names one call (contract v3.2): a hold and a usage of one id are one item,
    so that the conditional put of either proves the other absent, at no extra request.

    ``item_type`` says what it is now: ``hold`` until a usage lands on it, ``usage`` from then on
    (its hold's attributes, if any, stay)."""

    request_id = UnicodeAttribute()
    account_id = UnicodeAttribute()
    model_id = UnicodeAttribute()
    # The usage record: never changed once written (but its free_remaining, filled in once).
    sub_account_id = UnicodeAttribute(null=True)
    quantity = NumberAttribute(null=True)
    free = NumberAttribute(null=True)
    billable = NumberAttribute(null=True)
    unbilled_overage = NumberAttribute(null=True)
    currency = UnicodeAttribute(null=True)
    unit_price = UnicodeAttribute(null=True)
    charge = UnicodeAttribute(null=True)
    free_remaining = NumberAttribute(null=True)
    auto_claimed = BooleanAttribute(null=True)
    recorded_at = UnicodeAttribute(null=True)
    fingerprint = UnicodeAttribute(null=True)
    write_id = UnicodeAttribute(null=True)
    usage_account = UnicodeAttribute(null=True)
    usage_order = UnicodeAttribute(null=True)
    by_account = UsageByAccount()
    # Its reversal (R17), set once; the entry is the call's ReversalItem.
    reversed_at = UnicodeAttribute(null=True)
    reversal_reason = UnicodeAttribute(null=True)
    free_returned = NumberAttribute(null=True)
    free_expired = NumberAttribute(null=True)
    # The hold: its request, what it reserved, how it ended.
    hold_sub_account_id = UnicodeAttribute(null=True)
    estimate = NumberAttribute(null=True)
    held = NumberAttribute(null=True)
    source = UnicodeAttribute(null=True)
    free_available = NumberAttribute(null=True)
    hold_auto_claimed = BooleanAttribute(null=True)
    created_at = UnicodeAttribute(null=True)
    expires_at = UnicodeAttribute(null=True)
    ttl_seconds = NumberAttribute(null=True)
    status = UnicodeAttribute(null=True)
    closed_at = UnicodeAttribute(null=True)
    hold_fingerprint = UnicodeAttribute(null=True)
    hold_write_id = UnicodeAttribute(null=True)
    open_shard = UnicodeAttribute(null=True)
    open_holds = OpenHolds()


class UsageItem(CallItem, discriminator="usage"):
    """A call with its usage recorded (and its hold, if it had one)."""


class HoldItem(CallItem, discriminator="hold"):
    """A call with a hold and no usage yet."""


class ExpiryItem(EntryItem, discriminator="expiry"):
    """The expiry of one grant's free remainder; at most one per grant; an entry of its ledger."""

    account_id = UnicodeAttribute()
    model_id = UnicodeAttribute()
    quantity = NumberAttribute()
    expires_at = UnicodeAttribute()
    as_of = UnicodeAttribute()
    recorded_at = UnicodeAttribute()


class ReversalItem(EntryItem, discriminator="reversal"):
    """The reversal of one usage (R17), beside its call item (``USAGE#<request_id>``, ``REVERSAL``):
    put once, the grant ledger's entry when the usage had drawn free units."""

    request_id = UnicodeAttribute()
    account_id = UnicodeAttribute()
    model_id = UnicodeAttribute()
    reason = UnicodeAttribute()
    recorded_at = UnicodeAttribute()
    free_returned = NumberAttribute()
    free_expired = NumberAttribute()
    billable = NumberAttribute()
    currency = UnicodeAttribute()
    charge = UnicodeAttribute()


class ActionItem(EntryItem, discriminator="action"):
    """An operator action on a grant (R18), by its ``action_id`` (``ACTION#<action_id>``,
    ``ACTION``): put once, the grant ledger's entry, with who acted and why."""

    action_id = UnicodeAttribute()
    action_kind = UnicodeAttribute()
    account_id = UnicodeAttribute()
    model_id = UnicodeAttribute()
    actor = UnicodeAttribute()
    reason = UnicodeAttribute()
    recorded_at = UnicodeAttribute()
    fingerprint = UnicodeAttribute()
    previous_expires_at = UnicodeAttribute()
    new_expires_at = UnicodeAttribute()
    quantity = NumberAttribute()
    """A void: the remainder it recorded as expired (0 for an extension)."""
