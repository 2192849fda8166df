"""The one data-access module: every DynamoDB request the ledger makes is a method here, and
each method is exactly one request. Writes are conditional; when a condition fails, the item as
it is now comes back with the failure (ReturnValuesOnConditionCheckFailure) instead of through a
second read. Rules and retries live in the ledger; this module only speaks DynamoDB."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import botocore.exceptions
from pynamodb.connection import Connection
from pynamodb.exceptions import (
    DoesNotExist,
    PynamoDBConnectionError,
    PynamoDBException,
    TransactWriteError,
    UpdateError,
)
from pynamodb.expressions.condition import Condition
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from .records import (
    EXPIRY_SHARDS,
    PROFILE_SORT_KEY,
    USAGE_SORT_KEY,
    AccountProfileItem,
    ExpiryItem,
    GrantItem,
    LedgerItem,
    UsageItem,
    account_key,
    expiry_sort_key,
    grant_sort_key,
    usage_key,
)
from .rules import GrantState
from .views import ClaimMethod

TRANSIENT_ERROR_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
        "TransactionInProgressException",
        "TransactionConflictException",
    }
)
TRANSIENT_CANCELLATION_CODES = frozenset({"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"})


class StoreUnavailable(Exception):
    """DynamoDB throttled, conflicted or timed out after the client's own retries."""


@dataclass(frozen=True, slots=True)
class ProfileState:
    account_id: str
    activated_at: str | None
    postpaid_enabled: bool


@dataclass(frozen=True, slots=True)
class UsageRecord:
    request_id: str
    account_id: str
    model_id: str
    sub_account_id: str | None
    quantity: int
    free: int
    billable: int
    unbilled_overage: int
    currency: str
    unit_price: str
    charge: str
    free_remaining: int | None
    """Exact when the write knew the grant's remainder; None until settled after a contended
    write (see ``settle_free_remaining``)."""
    auto_claimed: bool
    recorded_at: str
    fingerprint: str
    write_id: str
    """Unique per write attempt: tells this call's own write (landed by a retry after a lost
    response) from an earlier call's record."""


@dataclass(frozen=True, slots=True)
class GrantDraw:
    """Take ``free`` units from a grant whose remainder is exactly ``expected_remaining`` now.

    Remainders only ever shrink, so the exact match is a version check: it fails when anything
    touched the grant since it was read, and then the failure carries the grant as it is.
    With ``exact=False`` (used under contention) the condition is only ``remaining >= free``:
    it cannot lose a race to a writer that leaves enough, but the new remainder is unknown."""

    model_id: str
    expected_remaining: int
    free: int
    now: str
    exact: bool = True


@dataclass(frozen=True, slots=True)
class NewGrant:
    state: GrantState
    claimed_by: str | None


@dataclass(frozen=True, slots=True)
class UsageCommit:
    usage: UsageRecord
    draw: GrantDraw | None = None
    new_grant: NewGrant | None = None
    expect_no_grant: bool = False
    """Free units were refused because no grant exists (campaign closed): prove it still doesn't."""
    expect_postpaid: bool | None = None
    """The split of the non-free part assumed this postpaid switch: prove it still holds."""


@dataclass(slots=True)
class CommitRefused(Exception):
    """A conditional transaction was cancelled. Each field holds what its failing item is now."""

    usage: UsageRecord | None = None
    grant_changed: bool = False
    grant: GrantState | None = None
    profile_changed: bool = False
    profile: ProfileState | None = None
    existing_grants: dict[str, GrantState] = field(default_factory=dict)
    expiry_recorded: bool = False
    transient: bool = False


@dataclass(frozen=True, slots=True)
class ExpiryCandidate:
    account_id: str
    model_id: str
    quota: int
    expires_at: str


def expiry_shard_of(account_id: str, model_id: str) -> str:
    # A stable spread (not Python's salted hash) so the shard of a grant never changes.
    digest = uuid.uuid5(uuid.NAMESPACE_OID, f"{account_id}\x00{model_id}").int
    return f"{digest % EXPIRY_SHARDS:02d}"


def all_expiry_shards() -> list[str]:
    return [f"{shard:02d}" for shard in range(EXPIRY_SHARDS)]


def _cause_code(error: PynamoDBException) -> str | None:
    # Not PynamoDB's cause_response_code: it fails on botocore errors whose response is None
    # (a read timeout), exactly when the code matters most.
    response = getattr(error.cause, "response", None)
    if not isinstance(response, dict):
        return None
    code = response.get("Error", {}).get("Code")
    return code if isinstance(code, str) else None


def _is_transient(error: PynamoDBException) -> bool:
    if _cause_code(error) in TRANSIENT_ERROR_CODES:
        return True
    return isinstance(error.cause, botocore.exceptions.ConnectionError | botocore.exceptions.HTTPClientError)


class _Transaction:
    """A TransactWrite that remembers which label each item has, in the order PynamoDB sends
    them (condition checks, then puts, then updates), to read cancellation reasons by label."""

    def __init__(self, connection: Connection) -> None:
        # A fresh token per logical attempt: botocore's own retries of this exact request reuse
        # it, so a retry after a timeout whose write already landed is answered, not re-applied.
        self._tx = TransactWrite(connection=connection, client_request_token=str(uuid.uuid4()))
        self._checks: list[str] = []
        self._puts: list[str] = []
        self._updates: list[str] = []

    def check(self, label: str, model: type[Model], pk: str, sk: str, condition: Condition) -> None:
        self._tx.condition_check(model, pk, sk, condition=condition)
        self._checks.append(label)

    def put(self, label: str, item: Model, condition: Condition) -> None:
        self._tx.save(item, condition=condition, return_values="ALL_OLD")
        self._puts.append(label)

    def update(self, label: str, item: Model, actions: list[Any], condition: Condition) -> None:
        self._tx.update(item, actions, condition=condition, return_values="ALL_OLD")
        self._updates.append(label)

    def commit(self) -> list[tuple[str, str, dict[str, Any] | None]]:
        """Commit; on cancellation return ``(label, code, old item)`` for each refused item."""
        try:
            self._tx._commit()
        except TransactWriteError as error:
            if _cause_code(error) != "TransactionCanceledException":
                if _is_transient(error):
                    raise StoreUnavailable(str(error)) from error
                raise
            labels = self._checks + self._puts + self._updates
            refused = []
            for label, reason in zip(labels, error.cancellation_reasons, strict=False):
                if reason is not None and reason.code not in ("None", None):
                    refused.append((label, reason.code, reason.raw_item))
            return refused
        return []


class LedgerStore:
    def __init__(self) -> None:
        meta = LedgerItem.Meta
        self._connection = Connection(
            region=meta.region,
            host=meta.host,
            connect_timeout_seconds=meta.connect_timeout_seconds,
            read_timeout_seconds=meta.read_timeout_seconds,
            max_retry_attempts=meta.max_retry_attempts,
        )

    @property
    def client(self) -> Any:
        """The botocore client transactions go through (for instrumentation)."""
        return self._connection.client

    # -- accounts -------------------------------------------------------------------------

    def activate(self, account_id: str, now: str) -> ProfileState:
        item = AccountProfileItem(account_key(account_id), PROFILE_SORT_KEY)
        with _unavailable_on_transient():
            item.update(
                actions=[
                    AccountProfileItem.account_id.set(account_id),
                    AccountProfileItem.activated_at.set(AccountProfileItem.activated_at | now),
                    AccountProfileItem.postpaid_enabled.set(AccountProfileItem.postpaid_enabled | False),
                    AccountProfileItem.updated_at.set(AccountProfileItem.updated_at | now),
                    AccountProfileItem.item_type.set(AccountProfileItem),
                ]
            )
        return _profile_state(item)

    def set_postpaid(self, account_id: str, enabled: bool, now: str) -> ProfileState | None:
        """Set the switch on an activated account; None when the account is not activated."""
        item = AccountProfileItem(account_key(account_id), PROFILE_SORT_KEY)
        try:
            with _unavailable_on_transient():
                item.update(
                    actions=[
                        AccountProfileItem.postpaid_enabled.set(enabled),
                        AccountProfileItem.updated_at.set(now),
                    ],
                    condition=AccountProfileItem.activated_at.exists(),
                )
        except UpdateError as error:
            if _cause_code(error) == "ConditionalCheckFailedException":
                return None
            raise
        return _profile_state(item)

    def get_profile(self, account_id: str) -> ProfileState:
        try:
            with _unavailable_on_transient():
                item = AccountProfileItem.get(account_key(account_id), PROFILE_SORT_KEY, consistent_read=True)
        except DoesNotExist:
            return ProfileState(account_id, None, False)
        return _profile_state(item)

    # -- grants ---------------------------------------------------------------------------

    def read_account(self, account_id: str, model_ids: Sequence[str]) -> tuple[ProfileState, dict[str, GrantState]]:
        """The account's profile and its grants of ``model_ids``, strongly consistent, in one
        BatchGetItem."""
        keys = [(account_key(account_id), PROFILE_SORT_KEY)]
        keys += [(account_key(account_id), grant_sort_key(model_id)) for model_id in dict.fromkeys(model_ids)]
        profile = ProfileState(account_id, None, False)
        grants: dict[str, GrantState] = {}
        with _unavailable_on_transient():
            for item in LedgerItem.batch_get(keys, consistent_read=True):
                if isinstance(item, AccountProfileItem):
                    profile = _profile_state(item)
                elif isinstance(item, GrantItem):
                    grants[item.model_id] = _grant_state(item)
        return profile, grants

    def read_whole_account(self, account_id: str) -> tuple[ProfileState, list[GrantState]]:
        """The profile and every grant of the account: one strongly consistent Query."""
        profile = ProfileState(account_id, None, False)
        grants: list[GrantState] = []
        with _unavailable_on_transient():
            for item in LedgerItem.query(account_key(account_id), consistent_read=True):
                if isinstance(item, AccountProfileItem):
                    profile = _profile_state(item)
                elif isinstance(item, GrantItem):
                    grants.append(_grant_state(item))
        return profile, grants

    def create_grants(self, account_id: str, grants: Sequence[NewGrant], require_activation: bool) -> None:
        """Put new grants in one transaction; raises CommitRefused naming what already exists."""
        tx = _Transaction(self._connection)
        if require_activation:
            tx.check(
                "profile",
                AccountProfileItem,
                account_key(account_id),
                PROFILE_SORT_KEY,
                AccountProfileItem.activated_at.exists(),
            )
        for grant in grants:
            tx.put(f"grant:{grant.state.model_id}", grant_item(grant), GrantItem.pk.does_not_exist())
        refused = tx.commit()
        if refused:
            raise _refusal(refused)

    # -- usage ----------------------------------------------------------------------------

    def commit_usage(self, commit: UsageCommit) -> None:
        """Record one usage and its draw on the grant atomically; raises CommitRefused."""
        usage = commit.usage
        tx = _Transaction(self._connection)
        pk = account_key(usage.account_id)
        if commit.expect_postpaid is not None:
            condition = (
                AccountProfileItem.postpaid_enabled == True  # noqa: E712 (a DynamoDB condition)
                if commit.expect_postpaid
                else AccountProfileItem.pk.does_not_exist() | (AccountProfileItem.postpaid_enabled == False)  # noqa: E712
            )
            tx.check("profile", AccountProfileItem, pk, PROFILE_SORT_KEY, condition)
        if commit.expect_no_grant:
            tx.check("grant", GrantItem, pk, grant_sort_key(usage.model_id), GrantItem.pk.does_not_exist())
        tx.put("usage", _usage_item(usage), UsageItem.pk.does_not_exist())
        if commit.new_grant is not None:
            tx.put("grant", grant_item(commit.new_grant), GrantItem.pk.does_not_exist())
        if commit.draw is not None:
            draw = commit.draw
            grant = GrantItem(pk, grant_sort_key(draw.model_id))
            alive = GrantItem.expires_at > draw.now
            if draw.exact:
                left = draw.expected_remaining - draw.free
                actions = [GrantItem.remaining.set(left), GrantItem.used.set(GrantItem.used + draw.free)]
                if left == 0:
                    actions.append(GrantItem.expiry_shard.remove())
                tx.update("grant", grant, actions, (GrantItem.remaining == draw.expected_remaining) & alive)
            else:
                actions = [
                    GrantItem.remaining.set(GrantItem.remaining - draw.free),
                    GrantItem.used.set(GrantItem.used + draw.free),
                ]
                tx.update("grant", grant, actions, (GrantItem.remaining >= draw.free) & alive)
        refused = tx.commit()
        if refused:
            raise _refusal(refused)

    def settle_free_remaining(self, request_id: str, free_remaining: int) -> int:
        """Fill in a usage record's ``free_remaining`` once; returns the value that stands (ours,
        or the one a concurrent replay settled first)."""
        item = UsageItem(usage_key(request_id), USAGE_SORT_KEY)
        try:
            with _unavailable_on_transient():
                item.update(
                    actions=[UsageItem.free_remaining.set(free_remaining)],
                    condition=UsageItem.pk.exists() & UsageItem.free_remaining.does_not_exist(),
                )
        except UpdateError as error:
            if _cause_code(error) != "ConditionalCheckFailedException":
                raise
            settled = self.get_usage(request_id)
            if settled is None or settled.free_remaining is None:
                raise
            return settled.free_remaining
        return free_remaining

    def get_usage(self, request_id: str) -> UsageRecord | None:
        try:
            with _unavailable_on_transient():
                item = UsageItem.get(usage_key(request_id), USAGE_SORT_KEY, consistent_read=True)
        except DoesNotExist:
            return None
        return _usage_record(item)

    def usage_page(
        self, account_id: str, model_id: str | None, limit: int, after: tuple[str, str] | None
    ) -> tuple[list[UsageRecord], bool]:
        """Up to ``limit`` usage records, newest first, after the ``(usage_order, request_id)``
        position; also whether more follow (one item beyond the page is read to know)."""
        start = None
        if after is not None:
            order, request_id = after
            start = {
                "PK": {"S": usage_key(request_id)},
                "SK": {"S": USAGE_SORT_KEY},
                "usage_order": {"S": order},
            }
            if model_id is None:
                start["usage_account"] = {"S": account_id}
            else:
                start["usage_account_model"] = {"S": f"{account_id}#{model_id}"}
        index = UsageItem.by_account if model_id is None else UsageItem.by_model
        hash_key = account_id if model_id is None else f"{account_id}#{model_id}"
        with _unavailable_on_transient():
            items = list(
                index.query(
                    hash_key, scan_index_forward=False, limit=limit + 1, page_size=limit + 1, last_evaluated_key=start
                )
            )
        records = [_usage_record(item) for item in items]
        return records[:limit], len(records) > limit

    def usage_of_grant(self, account_id: str, model_id: str) -> Iterator[UsageRecord]:
        with _unavailable_on_transient():
            for item in UsageItem.by_model.query(f"{account_id}#{model_id}"):
                yield _usage_record(item)

    # -- expiry ---------------------------------------------------------------------------

    def expiry_candidates(
        self, shard: str, as_of: str, page_size: int, start: dict[str, Any] | None
    ) -> tuple[list[ExpiryCandidate], dict[str, Any] | None]:
        """One page of grants due at ``as_of`` in one shard of the sparse index, soonest first."""
        with _unavailable_on_transient():
            result = GrantItem.candidates.query(
                shard,
                GrantItem.expires_at <= as_of,
                limit=page_size,
                page_size=page_size,
                last_evaluated_key=start,
            )
            candidates = [
                ExpiryCandidate(item.account_id, item.model_id, int(item.quota), item.expires_at) for item in result
            ]
            return candidates, result.last_evaluated_key

    def expire_grant(self, candidate: ExpiryCandidate, remaining: int, as_of: str, now: str) -> None:
        """Move the whole remainder (exactly ``remaining``) to ``expired`` and write the expiry
        entry, atomically; raises CommitRefused with the grant as it is when it moved."""
        pk = account_key(candidate.account_id)
        tx = _Transaction(self._connection)
        entry = ExpiryItem(
            pk,
            expiry_sort_key(candidate.model_id),
            account_id=candidate.account_id,
            model_id=candidate.model_id,
            quantity=remaining,
            expires_at=candidate.expires_at,
            as_of=as_of,
            recorded_at=now,
        )
        tx.put("expiry", entry, ExpiryItem.pk.does_not_exist())
        tx.update(
            "grant",
            GrantItem(pk, grant_sort_key(candidate.model_id)),
            [
                GrantItem.remaining.set(0),
                GrantItem.expired.set(GrantItem.expired + remaining),
                GrantItem.expired_recorded_at.set(now),
                GrantItem.expiry_shard.remove(),
            ],
            (GrantItem.remaining == remaining) & (GrantItem.remaining > 0) & (GrantItem.expires_at <= as_of),
        )
        refused = tx.commit()
        if refused:
            raise _refusal(refused)

    def drop_exhausted_from_index(self, account_id: str, model_id: str) -> None:
        """Take a grant whose remainder is zero out of the expiry index (after a relaxed draw, or
        when the nightly job finds one there)."""
        item = GrantItem(account_key(account_id), grant_sort_key(model_id))
        try:
            with _unavailable_on_transient():
                item.update(actions=[GrantItem.expiry_shard.remove()], condition=GrantItem.remaining == 0)
        except UpdateError as error:
            if _cause_code(error) != "ConditionalCheckFailedException":
                raise

    # -- audit ----------------------------------------------------------------------------

    def all_items(self) -> Iterable[LedgerItem]:
        """Every item of the table (the audit's full read; never on a request path)."""
        with _unavailable_on_transient():
            yield from LedgerItem.scan()


@contextmanager
def _unavailable_on_transient() -> Iterator[None]:
    """Turn throttling and timeouts that outlived botocore's retries into StoreUnavailable."""
    try:
        yield
    except PynamoDBConnectionError as error:
        if _is_transient(error):
            raise StoreUnavailable(str(error)) from error
        raise


def _refusal(refused: list[tuple[str, str, dict[str, Any] | None]]) -> CommitRefused:
    result = CommitRefused()
    for label, code, raw in refused:
        if code in TRANSIENT_CANCELLATION_CODES:
            result.transient = True
        elif label == "usage":
            result.usage = _usage_record(UsageItem.from_raw_data(raw)) if raw else None
        elif label == "profile":
            result.profile_changed = True
            result.profile = _profile_state(AccountProfileItem.from_raw_data(raw)) if raw else None
        elif label == "expiry":
            result.expiry_recorded = True
        elif label == "grant" or label.startswith("grant:"):
            grant = _grant_state(GrantItem.from_raw_data(raw)) if raw else None
            result.grant_changed, result.grant = True, grant
            if grant is not None:
                result.existing_grants[grant.model_id] = grant
    return result


def _profile_state(item: AccountProfileItem) -> ProfileState:
    return ProfileState(item.account_id, item.activated_at, bool(item.postpaid_enabled))


def _grant_state(item: GrantItem) -> GrantState:
    return GrantState(
        account_id=item.account_id,
        model_id=item.model_id,
        unit=item.unit,
        quota=int(item.quota),
        used=int(item.used),
        remaining=int(item.remaining),
        expired=int(item.expired),
        claim_method=ClaimMethod(item.claim_method),
        claimed_at=item.claimed_at,
        expires_at=item.expires_at,
    )


def grant_item(grant: NewGrant) -> GrantItem:
    state = grant.state
    return GrantItem(
        account_key(state.account_id),
        grant_sort_key(state.model_id),
        account_id=state.account_id,
        model_id=state.model_id,
        unit=state.unit,
        quota=state.quota,
        used=state.used,
        remaining=state.remaining,
        expired=state.expired,
        claim_method=state.claim_method.value,
        claimed_at=state.claimed_at,
        claimed_by=grant.claimed_by,
        expires_at=state.expires_at,
        expiry_shard=expiry_shard_of(state.account_id, state.model_id) if state.remaining > 0 else None,
    )


def _usage_item(usage: UsageRecord) -> UsageItem:
    return UsageItem(
        usage_key(usage.request_id),
        USAGE_SORT_KEY,
        request_id=usage.request_id,
        account_id=usage.account_id,
        model_id=usage.model_id,
        sub_account_id=usage.sub_account_id,
        quantity=usage.quantity,
        free=usage.free,
        billable=usage.billable,
        unbilled_overage=usage.unbilled_overage,
        currency=usage.currency,
        unit_price=usage.unit_price,
        charge=usage.charge,
        free_remaining=usage.free_remaining,
        auto_claimed=usage.auto_claimed,
        recorded_at=usage.recorded_at,
        fingerprint=usage.fingerprint,
        write_id=usage.write_id,
        usage_account=usage.account_id,
        usage_account_model=f"{usage.account_id}#{usage.model_id}",
        usage_order=f"{usage.recorded_at}#{usage.request_id}",
    )


def _usage_record(item: UsageItem) -> UsageRecord:
    return UsageRecord(
        request_id=item.request_id,
        account_id=item.account_id,
        model_id=item.model_id,
        sub_account_id=item.sub_account_id,
        quantity=int(item.quantity),
        free=int(item.free),
        billable=int(item.billable),
        unbilled_overage=int(item.unbilled_overage),
        currency=item.currency,
        unit_price=item.unit_price,
        charge=item.charge,
        free_remaining=None if item.free_remaining is None else int(item.free_remaining),
        auto_claimed=bool(item.auto_claimed),
        recorded_at=item.recorded_at,
        fingerprint=item.fingerprint,
        write_id=item.write_id,
    )
