"""Grants claimed before grants had keys of their own (v3 wrote a grant at its claim key, under its
account's partition key): read, written and claimed as any grant, moved to their own keys once,
one grant ever (R1), and the one-shot migration (docs/operations.md, "Grant keys")."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from infra.tools.audit import audit
from infra.tools.migrate_grants import migrate
from tests.support import CAMPAIGN_CLOSE, IMAGE, LANG_30, LANG_90, MILLION, DynamoCalls
from tests.support.catalogs import wide_catalog
from trial_ledger import ClaimMethod, ClaimOutcomeKind, GrantStatus, HoldAsk, HoldStatus, Ledger, SwitchableClock
from trial_ledger.domain.refusals import GrantsExist
from trial_ledger.domain.rules import new_grant
from trial_ledger.domain.writes import NewGrant
from trial_ledger.dynamo.store import LedgerStore
from trial_ledger.events.derivation import derive_events

TABLE = "trial-quota-test"


def own_key(account: str, model: str) -> dict[str, Any]:
    return {"PK": {"S": f"GRANT#{account}#{model}"}, "SK": {"S": "GRANT"}}


def claim_key(account: str, model: str) -> dict[str, Any]:
    return {"PK": {"S": f"ACCOUNT#{account}"}, "SK": {"S": f"GRANT#{model}"}}


def item(dynamodb: Any, key: dict[str, Any]) -> dict[str, Any] | None:
    found: dict[str, Any] | None = dynamodb.get_item(TableName=TABLE, Key=key, ConsistentRead=True).get("Item")
    return found


def as_in_v3(dynamodb: Any, account: str, model: str) -> dict[str, Any]:
    """Put the account's grant where v3 wrote it: at its claim key, and nothing at its own."""
    grant = item(dynamodb, own_key(account, model))
    assert grant is not None
    dynamodb.delete_item(TableName=TABLE, Key=own_key(account, model))
    legacy = {**grant, **claim_key(account, model)}
    dynamodb.put_item(TableName=TABLE, Item=legacy)
    return legacy


def assert_moved(dynamodb: Any, account: str, model: str, used: int) -> None:
    mark, grant = item(dynamodb, claim_key(account, model)), item(dynamodb, own_key(account, model))
    assert mark is not None
    assert grant is not None
    assert mark["item_type"] == {"S": "claim"}
    assert (grant["used"], grant["moved_from"]) == ({"N": str(used)}, {"S": f"ACCOUNT#{account}"})


@pytest.fixture
def fresh(ledger: Ledger) -> Ledger:
    """Another container: it has seen nothing of any grant."""
    return Ledger(store=LedgerStore(), catalog=ledger.catalog, clock=ledger.clock)


def test_a_grant_claimed_under_its_account_key_serves_usage_and_moves_on_first_read(
    ledger: Ledger, fresh: Ledger, dynamodb: Any
) -> None:
    ledger.record_usage("a", IMAGE, 10, "r1")
    as_in_v3(dynamodb, "a", IMAGE)
    result = fresh.record_usage("a", IMAGE, 5, "r2")
    assert (result.free, result.free_remaining, result.auto_claimed) == (5, 35, False)
    assert_moved(dynamodb, "a", IMAGE, used=15)
    assert [(g.model_id, g.used, g.remaining) for g in fresh.grants("a")] == [(IMAGE, 15, 35)]
    assert audit().ok


def test_a_grant_not_moved_yet_admits_after_the_campaign_closed(
    ledger: Ledger, fresh: Ledger, dynamodb: Any, clock: SwitchableClock
) -> None:
    """No automatic claim can find it then: the read must."""
    clock.freeze(CAMPAIGN_CLOSE - timedelta(days=10))
    ledger.record_usage("a", LANG_90, 10, "r1")
    as_in_v3(dynamodb, "a", LANG_90)
    clock.freeze(CAMPAIGN_CLOSE + timedelta(days=1))
    authorization = fresh.authorize("a", LANG_90)
    assert (authorization.allowed, authorization.source.value, authorization.free_remaining) == (
        True, "free", MILLION - 10)  # fmt: skip


def test_claiming_a_model_whose_grant_is_under_the_account_key_is_already_claimed(
    ledger: Ledger, fresh: Ledger, activated: str, dynamodb: Any
) -> None:
    ledger.claim(activated, [LANG_90])
    ledger.record_usage(activated, LANG_90, 7, "r1")
    as_in_v3(dynamodb, activated, LANG_90)
    [outcome] = fresh.claim(activated, [LANG_90])
    assert outcome.outcome is ClaimOutcomeKind.ALREADY_CLAIMED
    assert outcome.grant is not None
    assert outcome.grant.used == 7
    assert_moved(dynamodb, activated, LANG_90, used=7)
    assert audit().ok  # one grant (R1)


def test_a_new_grant_over_one_under_the_account_key_is_refused_with_it(
    ledger: Ledger, store: LedgerStore, dynamodb: Any, clock: SwitchableClock
) -> None:
    """A container that believes the model unclaimed puts a grant: its claim's mark is refused by
    the grant at the claim key, which is moved and handed back."""
    ledger.record_usage("a", IMAGE, 10, "r1")
    as_in_v3(dynamodb, "a", IMAGE)
    draft = NewGrant(new_grant("a", ledger.catalog[IMAGE], ClaimMethod.AUTO, clock.now(), None), None)
    with pytest.raises(GrantsExist) as refused:
        store.create_grants("a", [draft], require_activation=False)
    assert refused.value.grants[IMAGE].used == 10
    assert_moved(dynamodb, "a", IMAGE, used=10)


def test_a_usage_planned_as_a_claim_settles_on_the_grant_under_the_account_key(
    ledger: Ledger, fresh: Ledger, dynamodb: Any, dynamo_calls: DynamoCalls
) -> None:
    fresh.authorize("a", LANG_30)  # this container sees no grant of IMAGE yet...
    fresh.record_usage("a", LANG_30, 1, "seen")
    ledger.record_usage("a", IMAGE, 10, "r1")  # ...another claims it, and it is as v3 wrote it
    as_in_v3(dynamodb, "a", IMAGE)
    result = fresh.record_usage("a", IMAGE, 5, "r2")
    assert (result.free, result.free_remaining, result.auto_claimed) == (5, 35, False)
    assert_moved(dynamodb, "a", IMAGE, used=15)
    assert audit().ok


def test_the_grants_list_holds_grants_of_both_keys_by_model(ledger: Ledger, fresh: Ledger, dynamodb: Any) -> None:
    ledger.record_usage("a", LANG_90, 3, "r1")
    ledger.record_usage("a", IMAGE, 4, "r2")
    as_in_v3(dynamodb, "a", LANG_90)
    assert [(g.model_id, g.used) for g in fresh.grants("a")] == sorted([(IMAGE, 4), (LANG_90, 3)])
    assert_moved(dynamodb, "a", LANG_90, used=3)


def test_the_nightly_run_expires_a_grant_under_the_account_key(
    ledger: Ledger, fresh: Ledger, dynamodb: Any, clock: SwitchableClock
) -> None:
    ledger.record_usage("c", LANG_30, 10, "r1")
    as_in_v3(dynamodb, "c", LANG_30)
    clock.advance(timedelta(days=31))
    report = fresh.expire_due(clock.now())
    assert (report.expired_grants, report.expired_quantity) == (1, MILLION - 10)
    [grant] = fresh.grants("c")
    assert (grant.status, grant.remaining, grant.expired) == (GrantStatus.EXPIRED, 0, MILLION - 10)
    assert audit().ok


def test_releasing_a_hold_whose_grant_is_under_the_account_key_returns_its_units(
    ledger: Ledger, fresh: Ledger, dynamodb: Any
) -> None:
    ledger.hold(HoldAsk("a", IMAGE, "h1", 20))
    as_in_v3(dynamodb, "a", IMAGE)  # the grant with its held period
    assert fresh.release_hold("h1").status is HoldStatus.RELEASED
    grant = item(dynamodb, own_key("a", IMAGE))
    assert grant is not None
    assert (grant["held_total"], grant["unreserved"], grant["remaining"]) == ({"N": "0"}, {"N": "50"}, {"N": "50"})
    assert audit().ok


def test_a_move_that_meets_a_write_moves_the_grant_as_written(
    ledger: Ledger, store: LedgerStore, dynamodb: Any
) -> None:
    ledger.record_usage("a", IMAGE, 10, "r1")
    stale = as_in_v3(dynamodb, "a", IMAGE)
    dynamodb.update_item(TableName=TABLE, Key=claim_key("a", IMAGE),  # a v3 container's write meanwhile
                         UpdateExpression="SET used = :u, remaining = :r, unreserved = :r",
                         ExpressionAttributeValues={":u": {"N": "12"}, ":r": {"N": "38"}})  # fmt: skip
    moved = store.legacy.move(stale)
    assert (moved.used, moved.remaining) == (12, 38)
    assert_moved(dynamodb, "a", IMAGE, used=12)


def test_the_migration_moves_every_grant_once(ledger: Ledger, dynamodb: Any) -> None:
    for account in ("a", "b"):
        ledger.record_usage(account, IMAGE, 1, f"{account}-1")
        as_in_v3(dynamodb, account, IMAGE)
    ledger.record_usage("a", LANG_90, 1, "a-2")  # under its own key already
    assert migrate() == {"claimed_under_account_key": 2, "moved": 2}
    assert migrate() == {"claimed_under_account_key": 0, "moved": 0}
    for account in ("a", "b"):
        assert_moved(dynamodb, account, IMAGE, used=1)
    assert audit().ok


def test_the_audit_finds_a_claim_without_its_proof_or_its_grant(ledger: Ledger, dynamodb: Any) -> None:
    ledger.record_usage("a", IMAGE, 1, "r1")
    ledger.record_usage("b", IMAGE, 1, "r2")
    ledger.record_usage("c", IMAGE, 1, "r3")
    dynamodb.delete_item(TableName=TABLE, Key=claim_key("a", IMAGE))
    dynamodb.delete_item(TableName=TABLE, Key=own_key("b", IMAGE))
    grant = item(dynamodb, own_key("c", IMAGE))
    dynamodb.put_item(TableName=TABLE, Item={**grant, **claim_key("c", IMAGE)})  # type: ignore[dict-item]
    violations = audit().violations
    assert f"a/{IMAGE}: a grant without its claim's mark (R1)" in violations
    assert f"b/{IMAGE}: a claim's mark without its grant" in violations
    assert f"c/{IMAGE}: two grants (R1)" in violations


def test_a_moved_grant_publishes_nothing(dynamodb: Any) -> None:
    grant = {"item_type": "grant", "account_id": "a", "model_id": "m", "unit": "tokens", "quota": 100, "used": 90,
             "remaining": 10, "expired": 0, "claim_method": "auto", "claimed_at": "2026-03-01T08:00:00.000Z",
             "expires_at": "2026-05-30T08:00:00.000Z"}  # fmt: skip
    mark = {"item_type": "claim", "account_id": "a", "model_id": "m", "claimed_at": grant["claimed_at"]}
    at = "2026-03-02T08:00:00.000Z"
    assert derive_events(None, {**grant, "moved_from": "ACCOUNT#a"}, [80], at) == []  # the copy's put
    assert derive_events(grant, mark, [80], at) == []  # the mark in its place
    assert [e.detail_type.value for e in derive_events(None, grant, [80], at)] == ["TrialClaimed", "TrialBalanceLow"]


def test_fifty_trials_in_one_claim_take_two_transactions(
    store: LedgerStore, ledger: Ledger, dynamo_calls: DynamoCalls
) -> None:
    """A new grant is two items (the grant and its claim's mark): 50 and the profile are more than
    one transaction's 100."""
    wide = Ledger(store=store, catalog=wide_catalog(60), clock=ledger.clock)
    wide.activate("w")
    dynamo_calls.reset()
    models = [f"m-{n:03d}" for n in range(50)]
    outcomes = wide.claim("w", models)
    assert [(o.model_id, o.outcome) for o in outcomes] == [(m, ClaimOutcomeKind.CLAIMED) for m in models]
    assert [len(params["TransactItems"]) for _, params in dynamo_calls.calls] == [99, 3]
    assert len(wide.grants("w")) == 50
    assert audit().ok


def test_a_claim_of_fifty_that_meets_a_claim_in_its_second_transaction(
    store: LedgerStore, ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    wide = Ledger(store=store, catalog=wide_catalog(60), clock=ledger.clock)
    other = Ledger(store=LedgerStore(), catalog=wide.catalog, clock=ledger.clock)
    wide.activate("w")
    create = store.create_grants
    calls = []

    def between(account_id: str, grants: Any, require_activation: bool) -> None:
        calls.append(len(grants))
        if len(calls) == 2:
            other.authorize("w", "m-049")  # lands between the first transaction and the second
        create(account_id, grants, require_activation)

    monkeypatch.setattr(store, "create_grants", between)
    outcomes = {o.model_id: o.outcome for o in wide.claim("w", [f"m-{n:03d}" for n in range(50)])}
    assert outcomes.pop("m-049") is ClaimOutcomeKind.ALREADY_CLAIMED
    assert set(outcomes.values()) == {ClaimOutcomeKind.CLAIMED}
    assert calls == [49, 1]
    assert len(wide.grants("w")) == 50
