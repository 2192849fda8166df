"""The store's reads of accounts: profiles, claims and grants, strongly consistent.

A grant is read at its own key; one not there is looked for at its claim's key, where a grant
claimed before grants had keys of their own still is until it is moved (legacy_grants.py)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pynamodb.connection import Connection
from pynamodb.exceptions import DoesNotExist

from ..domain.state import CallRecord, GrantKey, GrantState, ProfileState
from . import mapping, plain
from .errors import unavailable_on_transient
from .items import AccountProfileItem, CallItem, ClaimMarkItem, GrantItem, LedgerItem
from .keys import CALL_SORT_KEY, PROFILE_SORT_KEY, account_key, call_key, grant_key
from .legacy_grants import LegacyGrants


class AccountReads:
    """The reads of LedgerStore (its base: the use cases ask the store)."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self.legacy = LegacyGrants(connection)

    def get_profile(self, account_id: str) -> ProfileState:
        item = get_item(AccountProfileItem, account_key(account_id), PROFILE_SORT_KEY)
        return mapping.profile_state(item) if item else ProfileState.absent(account_id)

    def read_account(self, account_id: str, model_ids: Sequence[str]) -> tuple[ProfileState, dict[str, GrantState]]:
        """The account's profile and its grants of ``model_ids``: one consistent BatchGetItem."""
        return self.read_accounts({account_id: model_ids})[account_id]

    def read_accounts(
        self, wanted: Mapping[str, Sequence[str]]
    ) -> dict[str, tuple[ProfileState, dict[str, GrantState]]]:
        """Each account's profile and its grants of the models named: consistent BatchGetItems of
        up to 100 keys each (one for up to 50 accounts of one model); a grant not at its own key
        is looked for at its claim's (legacy_grants.py)."""
        keys = []
        for account_id, model_ids in wanted.items():
            keys.append((account_key(account_id), PROFILE_SORT_KEY))
            keys += [grant_key(account_id, model_id) for model_id in dict.fromkeys(model_ids)]
        with unavailable_on_transient():
            items = plain.batch_get(self._connection, keys)
        by_account: dict[str, list[plain.RawItem]] = {account_id: [] for account_id in wanted}
        for item in items:
            by_account[item["account_id"]["S"]].append(item)
        profiles: dict[str, ProfileState] = {}
        found: dict[GrantKey, GrantState] = {}
        for account_id in wanted:
            profiles[account_id], grants = plain.profile_and_grants(account_id, by_account[account_id])
            found |= {(grant.account_id, grant.model_id): grant for grant in grants}
        found = self._behind_claims_too([(a, model) for a, models in wanted.items() for model in models], found)
        read: dict[str, tuple[ProfileState, dict[str, GrantState]]] = {a: (p, {}) for a, p in profiles.items()}
        for (account_id, model_id), grant in found.items():
            read[account_id][1][model_id] = grant
        return read

    def read_call(
        self, account_id: str, model_id: str, request_id: str
    ) -> tuple[ProfileState, GrantState | None, CallRecord | None]:
        """The account's profile, its grant of ``model_id``, and what ``request_id`` names: one
        consistent BatchGetItem of three keys."""
        keys = [(account_key(account_id), PROFILE_SORT_KEY), grant_key(account_id, model_id),
                (call_key(request_id), CALL_SORT_KEY)]  # fmt: skip
        with unavailable_on_transient():
            items = list(LedgerItem.batch_get(keys, consistent_read=True))
            profile, grants = mapping.profile_and_grants(account_id, [i for i in items if i.pk != keys[2][0]])
            calls = [mapping.call_record(item) for item in items if isinstance(item, CallItem)]
        pair = (account_id, model_id)
        found = self._behind_claims_too([pair], {pair: grants[0]} if grants else {})
        return profile, found.get(pair), next(iter(calls), None)

    def read_claims(self, account_id: str) -> tuple[ProfileState, list[str]]:
        """The profile and the models the account claimed, by model: one strongly consistent Query
        of the account's items (its profile and its claims; a grant still at its claim key is
        moved to its own, where writes address it)."""
        with unavailable_on_transient():
            items = list(LedgerItem.query(account_key(account_id), consistent_read=True))
            profile, legacy = mapping.profile_and_grants(account_id, items)
            if legacy:
                self.legacy.move_if_legacy((account_id, grant.model_id) for grant in legacy)
        return profile, [item.model_id for item in items if isinstance(item, ClaimMarkItem | GrantItem)]

    def read_whole_account(self, account_id: str) -> tuple[ProfileState, list[GrantState]]:
        """The profile and every grant of the account, by model: its claims, then their grants."""
        profile, model_ids = self.read_claims(account_id)
        claimed = [(account_id, model_id) for model_id in model_ids]
        grants = self.read_grants(claimed)
        return profile, [grants[pair] for pair in claimed if pair in grants]

    def read_grants(self, grants: Sequence[GrantKey]) -> dict[GrantKey, GrantState]:
        """The grants of ``grants`` (account, model) that exist: consistent BatchGetItems of their
        own keys, then of the claim keys of those not there (legacy_grants.py)."""
        with unavailable_on_transient():
            raws = plain.batch_get(self._connection, [grant_key(*pair) for pair in grants])
        found = {(grant.account_id, grant.model_id): grant for grant in map(plain.grant_state, raws)}
        return self._behind_claims_too(grants, found)

    def _behind_claims_too(
        self, wanted: Sequence[GrantKey], found: dict[GrantKey, GrantState]
    ) -> dict[GrantKey, GrantState]:
        """``found`` (the grants read at their own keys) with those of ``wanted`` it lacks looked for
        at their claim keys: not claimed, or claimed before grants had keys of their own."""
        if missing := [pair for pair in dict.fromkeys(wanted) if pair not in found]:
            with unavailable_on_transient():
                found |= self.legacy.behind_claims(missing)
        return found


def get_item[M: LedgerItem](model: type[M], pk: str, sk: str) -> M | None:
    """One item by its key, strongly consistent; None if there is none."""
    try:
        with unavailable_on_transient():
            return model.get(pk, sk, consistent_read=True)
    except DoesNotExist:
        return None
